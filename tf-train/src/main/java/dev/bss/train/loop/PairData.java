package dev.bss.train.loop;

/**
 * Where training and test pairs come from: seedable streams of mixtures {@code (mnist + fashion) / 2} with both
 * targets, drawn uniformly with replacement (the seed's generator).
 */
public interface PairData {

  /** A stream of training pairs; the same seed gives the same pairs. */
  BatchStream training(long seed);

  /** A stream of test pairs; the same seed gives the same pairs. */
  BatchStream test(long seed);

  /** One line naming the data source (directory, embedded subset, sizes). */
  String description();

  /** Fills batches, one after the other. */
  @FunctionalInterface
  interface BatchStream {
    /** Overwrites the first {@code batch.size()} pairs of {@code batch}. */
    void fill(Batch batch);
  }
}
