package dev.bss.train.cli;

import dev.bss.interop.Separator;
import dev.bss.interop.numpy.Npy;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * An {@code .npy} file of mixtures ({@code [N, 32, 32, 1]} or {@code [N, 32, 32]}) read in chunks, never whole: only
 * the header is read up front, then {@link #read} reads the mixtures of one chunk (so a file of gigabytes streams
 * through {@code separate} in bounded memory).
 *
 * <p>Values are checked as they are read: float32/float64 must be finite (NaN or infinity is refused with the index of
 * the first one), uint8 (0-255, e.g. raw MNIST pixels) is divided by 255, other integer types are refused, and values
 * outside [0, 1] (the network was trained on [0, 1]) draw one warning per file.
 */
final class MixtureInputs {

  private final Path file;
  private final String option;
  private final Npy.Header header;
  private final long count;
  private final PrintWriter warnings;
  private boolean warned;

  private MixtureInputs(Path file, String option, Npy.Header header, long count, PrintWriter warnings) {
    this.file = file;
    this.option = option;
    this.header = header;
    this.count = count;
    this.warnings = warnings;
  }

  /**
   * Opens {@code file}, validating its header and shape.
   *
   * @param option names the file in messages ({@code --npy}, {@code --inputs})
   * @param warnings where the one warning on values outside [0, 1] goes (null: none)
   * @throws Cli.UserException naming the option and file
   */
  static MixtureInputs open(Path file, String option, PrintWriter warnings) {
    if (Files.isDirectory(file)) {
      throw new Cli.UserException(option + " " + file + ": is a directory, expected a .npy file");
    }
    Npy.Header header;
    try {
      header = Npy.readHeader(file);
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      throw new Cli.UserException(option + " " + e.getMessage(), e);
    }
    long[] s = header.shape();
    boolean rank4 = s.length == 4 && s[1] == 32 && s[2] == 32 && s[3] == 1;
    boolean rank3 = s.length == 3 && s[1] == 32 && s[2] == 32;
    if (!rank4 && !rank3) {
      throw new Cli.UserException(option + " " + file + ": expected shape [N, 32, 32, 1] (or [N, 32, 32]), found "
          + Arrays.toString(s));
    }
    if (header.dtype().equals("<i4") || header.dtype().equals("<i8")) {
      throw new Cli.UserException(option + " " + file + ": integer dtype " + header.dtype() + "; expected float32 or "
          + "float64 mixtures in [0, 1] (or uint8 0-255, divided by 255), e.g. np.float32(x) / 255");
    }
    return new MixtureInputs(file, option, header, s[0], warnings);
  }

  /** Number of mixtures. */
  long count() {
    return count;
  }

  /** The file's shape as {@code [N, 32, 32, 1]}. */
  long[] shape() {
    return new long[] {count, 32, 32, 1};
  }

  /**
   * Mixtures {@code first .. first + n - 1} as {@code n * 1024} floats in [0, 1] (uint8 scaled).
   *
   * @throws Cli.UserException naming the file and the first non-finite value
   */
  float[] read(long first, int n) {
    int per = Separator.IMAGE_VALUES;
    float[] values;
    try {
      values = Npy.readFloats(file, header, first * per, n * per);
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      throw new Cli.UserException(option + " " + e.getMessage(), e);
    }
    boolean uint8 = header.dtype().equals("|u1");
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    long outside = -1;
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      if (uint8) {
        values[i] = v / 255f;
        continue;
      }
      if (!Float.isFinite(v)) {
        long index = first * per + i;
        throw new Cli.UserException(String.format(Locale.ROOT, "%s %s: mixture %d holds %s at pixel (%d, %d); "
            + "expected finite values in [0, 1]", option, file, index / per, v, (index % per) / 32, index % 32));
      }
      if (v < 0f || v > 1f) {
        if (outside < 0) {
          outside = (first * per + i) / per;
        }
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    if (outside >= 0 && !warned && warnings != null) {
      warned = true;
      warnings.println(String.format(Locale.ROOT, "warning: %s %s: values outside [0, 1] (from mixture %d on, e.g. "
          + "%s); the network was trained on mixtures in [0, 1], so its outputs may be meaningless", option, file,
          outside, min < 0f ? min : max));
      warnings.flush();
    }
    return values;
  }

  /** All mixtures (for compare, whose expected arrays are read whole); refuses files too large for one array. */
  float[] readAll() {
    if (count * Separator.IMAGE_VALUES > Integer.MAX_VALUE - 8) {
      throw new Cli.UserException(option + " " + file + ": " + count + " mixtures do not fit in one array (at most "
          + (Integer.MAX_VALUE - 8) / Separator.IMAGE_VALUES + ")");
    }
    return read(0, (int) count);
  }
}
