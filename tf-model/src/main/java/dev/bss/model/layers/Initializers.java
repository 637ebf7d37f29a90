package dev.bss.model.layers;

import java.util.SplittableRandom;

/**
 * Keras initializers computed in Java.
 *
 * <p>The distributions and fan rules are Keras's (fans from the whole kernel shape: rank 2 -> (shape[0], shape[1]);
 * rank > 2 -> receptive field = product of all dims but the last two, fan_in = shape[-2] * rf, fan_out = shape[-1] *
 * rf). The random streams are NOT Keras's: the same seed gives the same values in Java, not the values Keras would
 * draw. Each variable draws from its own stream derived from the seed and its Keras path, so adding a variable does
 * not change the others.
 */
public final class Initializers {

  /** Keras's correction so that the truncated normal has the requested stddev. */
  private static final double TRUNCATED_NORMAL_CORRECTION = 0.87962566103423978;

  private Initializers() {}

  /** Fan-in and fan-out of a kernel shape by Keras's rule. */
  public static long[] fans(long[] shape) {
    if (shape.length == 0) {
      return new long[] {1, 1};
    }
    if (shape.length == 1) {
      return new long[] {shape[0], shape[0]};
    }
    if (shape.length == 2) {
      return new long[] {shape[0], shape[1]};
    }
    long receptiveField = 1;
    for (int i = 0; i < shape.length - 2; i++) {
      receptiveField *= shape[i];
    }
    return new long[] {shape[shape.length - 2] * receptiveField, shape[shape.length - 1] * receptiveField};
  }

  /** Values of one variable, row-major, deterministic in {@code (seed, path)}. */
  public static float[] values(Initializer initializer, long[] shape, long seed, String path) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] out = new float[Math.toIntExact(n)];
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + path.hashCode());
    long[] fans = fans(shape);
    switch (initializer) {
      case ZEROS -> { }
      case ONES -> java.util.Arrays.fill(out, 1f);
      case GLOROT_UNIFORM -> {
        double limit = Math.sqrt(6.0 / (fans[0] + fans[1]));
        for (int i = 0; i < out.length; i++) {
          out[i] = (float) ((random.nextDouble() * 2 - 1) * limit);
        }
      }
      case HE_NORMAL -> {
        double stddev = Math.sqrt(2.0 / fans[0]) / TRUNCATED_NORMAL_CORRECTION;
        for (int i = 0; i < out.length; i++) {
          double z;
          do {
            z = gaussian(random);
          } while (Math.abs(z) > 2);
          out[i] = (float) (z * stddev);
        }
      }
      case STANDARD_NORMAL -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = (float) gaussian(random);
        }
      }
      default -> throw new IllegalStateException("unknown initializer " + initializer);
    }
    return out;
  }

  /** Box-Muller (one value per call; simplicity over speed, this runs once per training run). */
  private static double gaussian(SplittableRandom random) {
    double u1 = 1.0 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
