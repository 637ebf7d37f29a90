package dev.bss.train.loop;

/**
 * One batch of training pairs, row-major {@code [size, 32, 32, 1]} each: the mixture {@code (mnist + fashion) / 2}
 * and the two targets.
 */
public record Batch(int size, float[] mixture, float[] mnist, float[] fashion) {

  public Batch {
    int n = size * TrainingGraph.PIXELS;
    if (mixture.length < n || mnist.length < n || fashion.length < n) {
      throw new IllegalArgumentException("batch of " + size + " needs " + n + " values per array, found "
          + mixture.length + ", " + mnist.length + ", " + fashion.length);
    }
  }

  /** An empty batch to fill. */
  public static Batch allocate(int size) {
    int n = size * TrainingGraph.PIXELS;
    return new Batch(size, new float[n], new float[n], new float[n]);
  }
}
