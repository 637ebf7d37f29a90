package dev.bss.train.data;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Prepares the next mixture batches on a daemon thread while the current one trains, keeping the generator's order.
 *
 * <p>Deterministic: batch {@code k} is a pure function of the seed and {@code k}, so prefetching changes timing only.
 * The generator's {@link MixtureGenerator#batchesDrawn()} advances when a batch is taken, so a checkpoint taken between
 * steps records exactly the batches consumed. Close it when done (the thread stops).
 */
public final class MixturePrefetcher implements AutoCloseable {

  private final MixtureGenerator generator;
  private final BlockingQueue<Object> ready;
  private final Thread worker;
  private volatile boolean closed;

  MixturePrefetcher(MixtureGenerator generator, int batchSize, int depth) {
    if (depth < 1) {
      throw new IllegalArgumentException("prefetch depth must be >= 1, found " + depth);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, found " + batchSize);
    }
    this.generator = generator;
    this.ready = new ArrayBlockingQueue<>(depth);
    long first = generator.batchesDrawn();
    worker = new Thread(() -> produce(first, batchSize), "bss-mixture-prefetch");
    worker.setDaemon(true);
    worker.start();
  }

  /** The next batch (waits if it is not ready yet); advances the generator by one batch. */
  public MixtureBatch take() {
    if (closed) {
      throw new IllegalStateException("prefetcher is closed");
    }
    Object item;
    try {
      item = ready.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a batch", e);
    }
    if (item instanceof RuntimeException e) {
      throw new IllegalStateException("preparing a batch failed: " + e.getMessage(), e);
    }
    MixtureBatch batch = (MixtureBatch) item;
    generator.skipTo(batch.batchIndex() + 1);
    return batch;
  }

  @Override
  public void close() {
    closed = true;
    worker.interrupt();
    try {
      worker.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void produce(long first, int batchSize) {
    try {
      for (long index = first; !closed; index++) {
        // A fresh batch each time: the consumer may still be using the previous one.
        MixtureBatch batch = new MixtureBatch(batchSize);
        generator.fill(index, batchSize, batch);
        ready.put(batch);
      }
    } catch (InterruptedException e) {
      // close() asked us to stop.
    } catch (RuntimeException e) {
      ready.offer(e);
    }
  }
}
