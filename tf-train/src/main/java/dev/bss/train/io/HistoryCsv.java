package dev.bss.train.io;

import dev.bss.interop.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The per-epoch log as Keras's {@code CSVLogger} writes it: a header {@code epoch,<keys sorted>} and one row per
 * epoch (0-based epoch, values with full double precision).
 */
public final class HistoryCsv {

  private HistoryCsv() {}

  /** Writes {@code history} (one ordered map of metric name to value per epoch) atomically. */
  public static void write(Path file, List<Map<String, Double>> history) {
    Set<String> keys = new java.util.TreeSet<>();
    history.forEach(h -> keys.addAll(h.keySet()));
    StringBuilder sb = new StringBuilder("epoch");
    for (String k : keys) {
      sb.append(',').append(k);
    }
    sb.append('\n');
    for (int epoch = 0; epoch < history.size(); epoch++) {
      sb.append(epoch);
      for (String k : keys) {
        Double v = history.get(epoch).get(k);
        sb.append(',').append(v == null ? "" : pythonRepr(v));
      }
      sb.append('\n');
    }
    AtomicFiles.writeString(file, sb.toString());
  }

  /**
   * A double as Python's {@code repr} (what {@code CSVLogger}'s csv writer prints): plain decimals from 1e-4 to
   * below 1e16, else {@code 1.5625e-05} style exponents; {@code nan}, {@code inf}.
   */
  public static String pythonRepr(double v) {
    if (Double.isNaN(v)) {
      return "nan";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    if (v == 0) {
      return (1 / v < 0) ? "-0.0" : "0.0";
    }
    java.math.BigDecimal d = new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros();
    int exponent = d.precision() - d.scale() - 1;
    if (exponent < -4 || exponent >= 16) {
      String digits = d.unscaledValue().abs().toString();
      String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      return (v < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
          + String.format(Locale.ROOT, "%02d", Math.abs(exponent));
    }
    String plain = d.toPlainString();
    return plain.contains(".") ? plain : plain + ".0";
  }

  /** Reads a file written by {@link #write}; empty cells are left out of their row's map. */
  public static List<Map<String, Double>> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (lines.isEmpty() || !lines.get(0).startsWith("epoch")) {
      throw new IllegalArgumentException(file + ": expected a header starting with 'epoch', found "
          + (lines.isEmpty() ? "an empty file" : "'" + lines.get(0) + "'"));
    }
    String[] header = lines.get(0).split(",", -1);
    List<Map<String, Double>> history = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      if (lines.get(i).isEmpty()) {
        continue;
      }
      String[] cells = lines.get(i).split(",", -1);
      if (cells.length != header.length) {
        throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected " + header.length
            + " cells, found " + cells.length);
      }
      Map<String, Double> row = new LinkedHashMap<>();
      for (int c = 1; c < cells.length; c++) {
        if (!cells[c].isEmpty()) {
          row.put(header[c], Double.parseDouble(cells[c]));
        }
      }
      history.add(row);
    }
    return history;
  }

  /** The metric names of a history, in first-seen order. */
  public static Set<String> keys(List<Map<String, Double>> history) {
    Set<String> keys = new LinkedHashSet<>();
    history.forEach(h -> keys.addAll(h.keySet()));
    return keys;
  }
}
