package dev.bss.train.data;

import java.util.SplittableRandom;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;

/**
 * Draws the seed's training samples: for each sample an MNIST index and a Fashion-MNIST index, independently,
 * uniformly, with replacement; input = (mnist + fashion) / 2, targets = (mnist, fashion), each
 * {@code [batch, 32, 32, 1]} float32.
 *
 * <p>Reproducible without state: batch {@code k} depends only on {@code (seed, k, batch size)} (its random stream is
 * seeded from a hash of the seed and {@code k}), so a resumed run draws batch {@code k} again at no cost. Within a
 * batch all MNIST indices are drawn first, then all Fashion indices (the order of the Python reference's sampler).
 * Values are computed in float64 and rounded to float32 once, as the fixtures'
 * {@code ((mnist/255.0 + fashion/255.0) / 2.0).astype("float32")}, and written once, into the {@link Batch}'s tensors.
 */
public final class MixtureGenerator {

  // mixture value for (mnist pixel a, fashion pixel b) at index a * 256 + b; 256 KiB, shared by all generators.
  private static final float[] MIXED = new float[256 * 256];

  static {
    for (int a = 0; a < 256; a++) {
      for (int b = 0; b < 256; b++) {
        MIXED[a << 8 | b] = (float) ((a / 255.0 + b / 255.0) / 2.0);
      }
    }
  }

  /**
   * The images one batch pairs up.
   *
   * @param mnist index into the MNIST set of each sample
   * @param fashion index into the Fashion-MNIST set of each sample
   */
  public record Draw(int[] mnist, int[] fashion) {}

  private final ImageSet mnist;
  private final ImageSet fashion;
  private final long seed;

  /** A generator mixing {@code mnist} with {@code fashion}. */
  public MixtureGenerator(ImageSet mnist, ImageSet fashion, long seed) {
    if (mnist.size() == 0 || fashion.size() == 0) {
      throw new IllegalArgumentException("cannot draw mixtures from an empty set: " + mnist + ", " + fashion);
    }
    this.mnist = mnist;
    this.fashion = fashion;
    this.seed = seed;
  }

  /** The seed. */
  public long seed() {
    return seed;
  }

  /** The MNIST set drawn from. */
  public ImageSet mnist() {
    return mnist;
  }

  /** The Fashion-MNIST set drawn from. */
  public ImageSet fashion() {
    return fashion;
  }

  /** The indices of batch number {@code batchIndex} of {@code batchSize} samples. */
  public Draw draw(long batchIndex, int batchSize) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be positive, found " + batchSize);
    }
    SplittableRandom random = new SplittableRandom(batchSeed(seed, batchIndex));
    int[] mnistIndex = new int[batchSize];
    int[] fashionIndex = new int[batchSize];
    for (int s = 0; s < batchSize; s++) {
      mnistIndex[s] = random.nextInt(mnist.size());
    }
    for (int s = 0; s < batchSize; s++) {
      fashionIndex[s] = random.nextInt(fashion.size());
    }
    return new Draw(mnistIndex, fashionIndex);
  }

  /** Writes batch number {@code batchIndex} of {@code batch.size()} samples into {@code batch}. */
  public void fill(long batchIndex, Batch batch) {
    Draw draw = draw(batchIndex, batch.size());
    byte[] mnistPixels = mnist.paddedPixels();
    byte[] fashionPixels = fashion.paddedPixels();
    FloatDataBuffer mixture = batch.mixture();
    FloatDataBuffer mnistTarget = batch.mnist();
    FloatDataBuffer fashionTarget = batch.fashion();
    for (int s = 0; s < batch.size(); s++) {
      int m = draw.mnist()[s] * ImageSet.PIXELS;
      int f = draw.fashion()[s] * ImageSet.PIXELS;
      long out = (long) s * ImageSet.PIXELS;
      for (int p = 0; p < ImageSet.PIXELS; p++) {
        int a = mnistPixels[m + p] & 0xFF;
        int b = fashionPixels[f + p] & 0xFF;
        mnistTarget.setFloat(ImageSet.scaled(a), out + p);
        fashionTarget.setFloat(ImageSet.scaled(b), out + p);
        mixture.setFloat(MIXED[a << 8 | b], out + p);
      }
    }
  }

  /** The mixture value (float32) of an MNIST pixel {@code a} and a Fashion pixel {@code b}, both 0-255. */
  public static float mixed(int a, int b) {
    return MIXED[a << 8 | b];
  }

  /** Seed of one batch's random stream: a strong hash of (seed, batch index) so neighbouring streams don't overlap. */
  static long batchSeed(long seed, long batchIndex) {
    return mix64(seed ^ mix64(batchIndex + 0x9E3779B97F4A7C15L));
  }

  private static long mix64(long z) {
    // Stafford's variant 13 of the MurmurHash3 finaliser (the mixer SplittableRandom itself uses).
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
