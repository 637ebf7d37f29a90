package dev.bss.train.loop;

import dev.bss.train.data.Batch;
import dev.bss.train.data.Datasets;
import dev.bss.train.data.MixtureGenerator;
import java.util.Map;

/** {@link PairData} over the data helper's {@link Datasets} and its seedable {@link MixtureGenerator}. */
public final class DatasetsPairData implements PairData {

  private final Datasets datasets;

  public DatasetsPairData(Datasets datasets) {
    this.datasets = datasets;
  }

  public Datasets datasets() {
    return datasets;
  }

  @Override
  public BatchStream training(long seed) {
    return stream(datasets.trainMixtures(seed));
  }

  @Override
  public BatchStream test(long seed) {
    return stream(datasets.testMixtures(seed));
  }

  @Override
  public String description() {
    return datasets.description() + ", " + datasets.counts();
  }

  @Override
  public Map<String, Object> provenance() {
    return datasets.provenance();
  }

  /** Batch 0, 1, 2, ... of {@code generator}, each written straight into the batch filled. */
  private static BatchStream stream(MixtureGenerator generator) {
    return new BatchStream() {
      private long next;

      @Override
      public void fill(Batch batch) {
        generator.fill(next++, batch);
      }
    };
  }
}
