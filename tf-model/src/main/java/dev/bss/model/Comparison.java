package dev.bss.model;

import java.util.Arrays;
import java.util.Locale;

/**
 * Element-wise closeness of two float arrays, numpy's rule {@code |a - e| <= atol + rtol * |e|}, reporting the
 * largest difference, the worst element (by excess over its tolerance), its index and the count of mismatches.
 *
 * @param count number of compared elements
 * @param maxAbsDiff largest {@code |a - e|} (infinite when any element is NaN on either side: a mismatch)
 * @param worstIndex flat index of the element that exceeds its tolerance the most (or has the largest difference)
 * @param worstActual actual value there
 * @param worstExpected expected value there
 * @param mismatches number of elements outside the tolerance
 * @param atol absolute tolerance used
 * @param rtol relative tolerance used
 */
public record Comparison(long count, double maxAbsDiff, long worstIndex, float worstActual, float worstExpected,
    long mismatches, double atol, double rtol) {

  /** Compares {@code actual} with {@code expected} (same length, else IllegalArgumentException). */
  public static Comparison of(float[] actual, float[] expected, double atol, double rtol) {
    if (actual.length != expected.length) {
      throw new IllegalArgumentException("cannot compare " + actual.length + " values with " + expected.length);
    }
    double maxDiff = 0;
    double worstExcess = Double.NEGATIVE_INFINITY;
    int worst = actual.length == 0 ? -1 : 0;
    long mismatches = 0;
    for (int i = 0; i < actual.length; i++) {
      float a = actual[i];
      float e = expected[i];
      double diff;
      double excess;
      if (Float.isNaN(a) || Float.isNaN(e)) {
        // A NaN on either side is a mismatch, even NaN against NaN: a model output or a reference that holds NaN
        // is never "within tolerance" (a NaN tolerance, rtol * |NaN|, would otherwise let it pass).
        diff = Double.POSITIVE_INFINITY;
        excess = Double.POSITIVE_INFINITY;
      } else if (a == e) {
        diff = 0;
        excess = -(atol + rtol * Math.abs((double) e));
      } else {
        diff = Math.abs((double) a - (double) e);
        excess = diff - (atol + rtol * Math.abs((double) e));
      }
      if (excess > 0) {
        mismatches++;
      }
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
      maxDiff = Math.max(maxDiff, diff);
    }
    return new Comparison(actual.length, maxDiff, worst, worst < 0 ? Float.NaN : actual[worst],
        worst < 0 ? Float.NaN : expected[worst], mismatches, atol, rtol);
  }

  /** True when every element is within tolerance. */
  public boolean passed() {
    return mismatches == 0;
  }

  /** The worst element's index in a row-major array of the given shape, e.g. {@code [1, 17, 3, 0]}. */
  public long[] worstIndex(long[] shape) {
    long[] idx = new long[shape.length];
    long rest = worstIndex;
    for (int i = shape.length - 1; i >= 0; i--) {
      idx[i] = shape[i] == 0 ? 0 : rest % shape[i];
      rest = shape[i] == 0 ? rest : rest / shape[i];
    }
    return idx;
  }

  /** One line: max diff, mismatches, worst element. */
  public String describe() {
    return String.format(Locale.ROOT, "max |diff| %.3g, %d of %d outside atol %.1g + rtol %.1g*|e|; worst at %d:"
        + " actual %.8g, expected %.8g", maxAbsDiff, mismatches, count, atol, rtol, worstIndex, worstActual,
        worstExpected);
  }

  /** {@link #describe()} with the worst element's index in the given shape. */
  public String describe(long[] shape) {
    return describe().replace("worst at " + worstIndex + ":", "worst at " + Arrays.toString(worstIndex(shape)) + ":");
  }

  @Override
  public String toString() {
    return describe();
  }
}
