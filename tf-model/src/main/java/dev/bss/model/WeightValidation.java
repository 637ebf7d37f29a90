package dev.bss.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The one check of a {@link WeightSet} against the variables a network expects (Keras path to shape), with the one
 * message format every loader and the graph's registry use: every wrong (mis-shaped or non-finite), missing and
 * unexpected weight at once, e.g. {@code model.keras: weights do not fit the network (...); 1 wrong:
 * conv2d_3/kernel: expected [3, 3, 16, 16], found [3, 3, 16, 8]; 1 missing: conv2d_3/bias (expected [16])}.
 */
public final class WeightValidation {

  /** Longest list of problems spelled out per kind. */
  private static final int MAX_LISTED = 12;

  private WeightValidation() {}

  /**
   * Checks names, shapes and values.
   *
   * @param expected every variable's Keras path and shape
   * @param where the file or source named at the start of the message
   * @param network what the weights must fit, e.g. {@code the network (filters [32, 64, 128], ...)}
   * @throws IllegalArgumentException listing every problem at once
   */
  public static void require(Map<String, long[]> expected, WeightSet weights, String where, String network) {
    List<String> wrong = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      Weight w = weights.get(e.getKey());
      if (w == null) {
        missing.add(e.getKey() + " (expected " + Arrays.toString(e.getValue()) + ")");
      } else if (!Arrays.equals(w.shape(), e.getValue())) {
        wrong.add(e.getKey() + ": expected " + Arrays.toString(e.getValue()) + ", found " + w.shapeString());
      } else if (w.firstNonFinite() >= 0) {
        wrong.add(e.getKey() + ": non-finite value " + w.data()[w.firstNonFinite()] + " at flat index "
            + w.firstNonFinite());
      }
    }
    List<String> unexpected = new ArrayList<>();
    for (String path : weights.paths()) {
      if (!expected.containsKey(path)) {
        unexpected.add(path);
      }
    }
    requireNone(where, network, wrong, missing, unexpected);
  }

  /**
   * Fails with the one message when any list holds a problem, e.g. a file-layout check that found entries missing
   * or unexpected before any weight was read.
   *
   * @param wrong mis-shaped or non-finite weights, {@code path: what}
   * @param missing expected weights not found, {@code path (what was expected)}
   * @param unexpected names found but not expected
   * @throws IllegalArgumentException {@code where: weights do not fit network; N wrong: ...; N missing: ...; N
   *     unexpected: ...}
   */
  public static void requireNone(String where, String network, List<String> wrong, List<String> missing,
      List<String> unexpected) {
    if (wrong.isEmpty() && missing.isEmpty() && unexpected.isEmpty()) {
      return;
    }
    StringBuilder msg = new StringBuilder(where).append(": weights do not fit ").append(network);
    append(msg, "wrong", wrong);
    append(msg, "missing", missing);
    append(msg, "unexpected", unexpected);
    throw new IllegalArgumentException(msg.toString());
  }

  /** Appends {@code "; N label: a, b, ... (M more)"} when {@code items} is not empty. */
  private static void append(StringBuilder msg, String label, List<String> items) {
    if (items.isEmpty()) {
      return;
    }
    msg.append("; ").append(items.size()).append(' ').append(label).append(": ");
    msg.append(String.join(", ", items.subList(0, Math.min(MAX_LISTED, items.size()))));
    if (items.size() > MAX_LISTED) {
      msg.append(", ... (").append(items.size() - MAX_LISTED).append(" more)");
    }
  }
}
