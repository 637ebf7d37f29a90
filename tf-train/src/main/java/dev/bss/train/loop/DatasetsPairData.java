package dev.bss.train.loop;

import dev.bss.train.data.Datasets;
import dev.bss.train.data.MixtureBatch;
import dev.bss.train.data.MixtureGenerator;

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

  private static BatchStream stream(MixtureGenerator generator) {
    return new BatchStream() {
      private MixtureBatch buffer;

      @Override
      public void fill(Batch batch) {
        if (buffer == null || buffer.capacity() < batch.size()) {
          buffer = new MixtureBatch(batch.size());
        }
        generator.nextInto(buffer, batch.size());
        int n = batch.size() * TrainingGraph.PIXELS;
        System.arraycopy(buffer.mixture(), 0, batch.mixture(), 0, n);
        System.arraycopy(buffer.mnistTarget(), 0, batch.mnist(), 0, n);
        System.arraycopy(buffer.fashionTarget(), 0, batch.fashion(), 0, n);
      }
    };
  }
}
