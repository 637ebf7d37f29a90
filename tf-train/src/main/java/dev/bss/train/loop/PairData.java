package dev.bss.train.loop;

import dev.bss.train.data.Batch;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where training and test pairs come from: seedable streams of mixtures {@code (mnist + fashion) / 2} with both
 * targets, drawn uniformly with replacement (the seed's generator).
 */
public interface PairData {

  /** A stream of training pairs; the same seed gives the same pairs. */
  BatchStream training(long seed);

  /** A stream of test pairs; the same seed gives the same pairs. */
  BatchStream test(long seed);

  /**
   * Pairs in training step {@code step} (0-based) of an epoch of batches of {@code batchSize}: the batch size,
   * except for the last, smaller batch of a finite training set ({@link PairsDataset}).
   */
  default int samplesInStep(int step, int batchSize) {
    return batchSize;
  }

  /** One line naming the data source (directory, embedded subset, sizes). */
  String description();

  /** What run.json records about the data: at least its {@code source}; sources add what identifies their content. */
  default Map<String, Object> provenance() {
    Map<String, Object> provenance = new LinkedHashMap<>();
    provenance.put("source", description());
    return provenance;
  }

  /** Fills batches, one after the other. */
  @FunctionalInterface
  interface BatchStream {
    /** Writes the next {@code batch.size()} pairs into {@code batch}. */
    void fill(Batch batch);
  }
}
