package dev.bss.model;

import java.util.Arrays;

/**
 * One named array of float32 values in C (row-major) order, the unit every file format reads and writes.
 *
 * @param shape dimensions, e.g. {@code [3, 3, 1, 32]} for a Conv2D kernel (Keras layout)
 * @param data {@code product(shape)} values, row-major
 */
public record Weight(long[] shape, float[] data) {

  public Weight {
    shape = shape.clone();
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("weight shape " + Arrays.toString(shape) + " has a negative dimension");
      }
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException("weight shape " + Arrays.toString(shape) + " needs " + n
          + " values, found " + data.length);
    }
  }

  /** Number of elements. */
  public int size() {
    return data.length;
  }

  /** Index of the first NaN or infinite value, or -1 when all are finite. */
  public int firstNonFinite() {
    for (int i = 0; i < data.length; i++) {
      if (!Float.isFinite(data[i])) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Shape as a string like {@code [3, 3, 1, 32]}. */
  public String shapeString() {
    return Arrays.toString(shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Weight w && Arrays.equals(shape, w.shape) && Arrays.equals(data, w.data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Weight" + Arrays.toString(shape);
  }
}
