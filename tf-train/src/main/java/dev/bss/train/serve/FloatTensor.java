package dev.bss.train.serve;

import java.util.Arrays;

/**
 * A dense float32 tensor in row-major order, as requests carry it and signatures return it.
 *
 * @param shape the full shape, batch dimension first for batched tensors
 * @param values {@code product(shape)} values
 */
public record FloatTensor(long[] shape, float[] values) {

  /** Checks that the values fill the shape. */
  public FloatTensor {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n != values.length) {
      throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " needs " + n
          + " values, found " + values.length);
    }
  }

  /** The size of the first dimension (the batch), or 1 for a scalar. */
  public int rows() {
    return shape.length == 0 ? 1 : Math.toIntExact(shape[0]);
  }

  /** The shape without its first dimension. */
  public long[] rowShape() {
    return shape.length == 0 ? shape : Arrays.copyOfRange(shape, 1, shape.length);
  }
}
