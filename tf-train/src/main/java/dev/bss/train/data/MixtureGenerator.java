package dev.bss.train.data;

import java.util.SplittableRandom;

/**
 * Draws the seed's training samples: for each sample an MNIST index and a Fashion-MNIST index, independently,
 * uniformly, with replacement; input = (mnist + fashion) / 2, targets = (mnist, fashion), each
 * {@code [batch, 32, 32, 1]} float32.
 *
 * <p>Reproducible and checkpointable: batch {@code k} depends only on {@code (seed, k, batchSize)} (its random stream
 * is seeded from a hash of the seed and {@code k}), so the whole generator state is {@link State}{@code (seed,
 * batchesDrawn)} and restoring it, or skipping ahead, costs nothing. Within a batch all MNIST indices are drawn
 * first, then all Fashion indices (the order of the Python reference's sampler). Values are computed in float64 and
 * rounded to float32 once, as the fixtures' {@code ((mnist/255.0 + fashion/255.0) / 2.0).astype("float32")}.
 * {@link #fill} is thread-safe (it reads only immutable data), so a background thread may prepare batches.
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
   * The generator's complete state: its seed and how many batches it has handed out.
   *
   * @param seed the seed the generator was created with
   * @param batchesDrawn index of the next batch {@link #next} returns
   */
  public record State(long seed, long batchesDrawn) {}

  private final ImageSet mnist;
  private final ImageSet fashion;
  private final long seed;
  private volatile long batchesDrawn;

  /** A generator mixing {@code mnist} with {@code fashion}, starting at batch 0. */
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

  /** How many batches {@link #next} has returned (or the position restored). */
  public long batchesDrawn() {
    return batchesDrawn;
  }

  /** The state to store in a checkpoint. */
  public State state() {
    return new State(seed, batchesDrawn);
  }

  /** Continues exactly where a generator with {@code state} stopped (same seed required). */
  public void restore(State state) {
    if (state.seed() != seed) {
      throw new IllegalArgumentException("generator state has seed " + state.seed() + ", this generator " + seed);
    }
    skipTo(state.batchesDrawn());
  }

  /** Makes {@code batchIndex} the next batch {@link #next} returns. */
  public void skipTo(long batchIndex) {
    if (batchIndex < 0) {
      throw new IllegalArgumentException("batch index must be >= 0, found " + batchIndex);
    }
    batchesDrawn = batchIndex;
  }

  /** The MNIST set drawn from. */
  public ImageSet mnist() {
    return mnist;
  }

  /** The Fashion-MNIST set drawn from. */
  public ImageSet fashion() {
    return fashion;
  }

  /** The next batch of {@code batchSize} samples in a new {@link MixtureBatch}. */
  public MixtureBatch next(int batchSize) {
    MixtureBatch batch = new MixtureBatch(batchSize);
    nextInto(batch, batchSize);
    return batch;
  }

  /** Fills {@code batch} with the next {@code batchSize} samples, reusing its arrays. */
  public void nextInto(MixtureBatch batch, int batchSize) {
    long index;
    synchronized (this) {
      index = batchesDrawn;
      batchesDrawn = index + 1;
    }
    fill(index, batchSize, batch);
  }

  /**
   * Fills {@code batch} with batch number {@code batchIndex} of size {@code batchSize}, without changing the state.
   */
  public void fill(long batchIndex, int batchSize, MixtureBatch batch) {
    if (batchSize <= 0 || batchSize > batch.capacity()) {
      throw new IllegalArgumentException("batch size must be 1.." + batch.capacity() + ", found " + batchSize);
    }
    SplittableRandom random = new SplittableRandom(batchSeed(seed, batchIndex));
    int[] mnistIndex = batch.mnistIndices();
    int[] fashionIndex = batch.fashionIndices();
    for (int s = 0; s < batchSize; s++) {
      mnistIndex[s] = random.nextInt(mnist.size());
    }
    for (int s = 0; s < batchSize; s++) {
      fashionIndex[s] = random.nextInt(fashion.size());
    }
    byte[] mnistPixels = mnist.paddedPixels();
    byte[] fashionPixels = fashion.paddedPixels();
    float[] mixture = batch.mixture();
    float[] mnistTarget = batch.mnistTarget();
    float[] fashionTarget = batch.fashionTarget();
    for (int s = 0; s < batchSize; s++) {
      int m = mnistIndex[s] * ImageSet.PIXELS;
      int f = fashionIndex[s] * ImageSet.PIXELS;
      int out = s * ImageSet.PIXELS;
      for (int p = 0; p < ImageSet.PIXELS; p++) {
        int a = mnistPixels[m + p] & 0xFF;
        int b = fashionPixels[f + p] & 0xFF;
        mnistTarget[out + p] = ImageSet.scaled(a);
        fashionTarget[out + p] = ImageSet.scaled(b);
        mixture[out + p] = MIXED[a << 8 | b];
      }
    }
    batch.setFilled(batchSize, batchIndex);
  }

  /**
   * A background producer of the next batches (at most {@code depth} ready ahead), in exactly the order and with
   * exactly the content {@link #next} would give; taking from it advances this generator.
   */
  public MixturePrefetcher prefetch(int batchSize, int depth) {
    return new MixturePrefetcher(this, batchSize, depth);
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
