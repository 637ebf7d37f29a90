package dev.bss.train.serve;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Dynamic batching as TensorFlow Serving's batcher does it: requests to one signature that arrive together are
 * concatenated along the batch dimension into one session run, up to {@code maxBatch} rows or until
 * {@code timeoutMicros} after the first one, and the outputs are split back per request.
 *
 * <p>Only requests whose inputs have the same keys and the same shape past the batch dimension are merged. A request
 * larger than {@code maxBatch} runs alone. When an output has no batch dimension matching the merged rows, each
 * request of that batch is run on its own instead. Requests already cancelled (timed out) are dropped unrun.
 */
public final class Batcher implements AutoCloseable {

  /** Runs a merged batch: the model's signature, as a function. */
  @FunctionalInterface
  public interface Runner {
    Map<String, FloatTensor> run(Map<String, FloatTensor> inputs);
  }

  private record Task(Map<String, FloatTensor> inputs, int rows, CompletableFuture<Map<String, FloatTensor>> result) {}

  private static final Task STOP = new Task(Map.of(), 0, null);

  private final Runner runner;
  private final int maxBatch;
  private final long timeoutMicros;
  private final ServeMetrics metrics;
  private final LinkedBlockingQueue<Task> queue = new LinkedBlockingQueue<>();
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean closed;

  /**
   * Starts {@code threads} batching threads.
   *
   * @param maxBatch the most rows merged into one run (1: no batching)
   * @param timeoutMicros how long the first request of a batch waits for others
   */
  public Batcher(String name, Runner runner, int maxBatch, long timeoutMicros, int threads, ServeMetrics metrics) {
    this.runner = runner;
    this.maxBatch = maxBatch;
    this.timeoutMicros = timeoutMicros;
    this.metrics = metrics;
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(this::work, "bss-batcher-" + name + "-" + i);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
  }

  /**
   * Queues a request.
   *
   * @param inputs every input by key, all with {@code rows} as their first dimension
   */
  public CompletableFuture<Map<String, FloatTensor>> submit(Map<String, FloatTensor> inputs, int rows) {
    CompletableFuture<Map<String, FloatTensor>> f = new CompletableFuture<>();
    if (closed) {
      f.completeExceptionally(new IllegalStateException("the server is shutting down"));
      return f;
    }
    queue.add(new Task(inputs, rows, f));
    return f;
  }

  private void work() {
    Task carry = null;
    while (true) {
      Task first;
      try {
        first = carry != null ? carry : queue.take();
      } catch (InterruptedException e) {
        return;
      }
      carry = null;
      if (first == STOP) {
        queue.add(STOP); // let the other workers see it too
        return;
      }
      if (first.result().isDone()) {
        continue;
      }
      List<Task> batch = new ArrayList<>();
      batch.add(first);
      int rows = first.rows();
      long deadline = System.nanoTime() + timeoutMicros * 1000;
      while (rows < maxBatch) {
        Task next;
        try {
          long wait = deadline - System.nanoTime();
          next = wait <= 0 ? queue.poll() : queue.poll(wait, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          break;
        }
        if (next == null) {
          break;
        }
        if (next == STOP || !compatible(first, next) || rows + next.rows() > maxBatch) {
          carry = next;
          break;
        }
        if (!next.result().isDone()) {
          batch.add(next);
          rows += next.rows();
        }
      }
      runBatch(batch, rows);
    }
  }

  private static boolean compatible(Task a, Task b) {
    if (!a.inputs().keySet().equals(b.inputs().keySet())) {
      return false;
    }
    for (Map.Entry<String, FloatTensor> e : a.inputs().entrySet()) {
      FloatTensor other = b.inputs().get(e.getKey());
      if (e.getValue().shape().length == 0 || !Arrays.equals(e.getValue().rowShape(), other.rowShape())) {
        return false;
      }
    }
    return true;
  }

  private void runBatch(List<Task> batch, int rows) {
    metrics.batch(rows);
    if (batch.size() == 1) {
      runAlone(batch.get(0));
      return;
    }
    Map<String, FloatTensor> merged = new LinkedHashMap<>();
    for (String key : batch.get(0).inputs().keySet()) {
      long[] rowShape = batch.get(0).inputs().get(key).rowShape();
      int perRow = Math.toIntExact(product(rowShape));
      float[] values = new float[rows * perRow];
      int offset = 0;
      for (Task t : batch) {
        float[] v = t.inputs().get(key).values();
        System.arraycopy(v, 0, values, offset, v.length);
        offset += v.length;
      }
      long[] shape = new long[rowShape.length + 1];
      shape[0] = rows;
      System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
      merged.put(key, new FloatTensor(shape, values));
    }
    Map<String, FloatTensor> out;
    try {
      out = runner.run(merged);
    } catch (RuntimeException e) {
      // One bad request must not fail the others merged with it: run each alone to attribute the error.
      batch.forEach(this::runAlone);
      return;
    }
    for (FloatTensor t : out.values()) {
      if (t.shape().length == 0 || t.shape()[0] != rows) {
        batch.forEach(this::runAlone);
        return;
      }
    }
    int start = 0;
    for (Task t : batch) {
      Map<String, FloatTensor> part = new LinkedHashMap<>();
      for (Map.Entry<String, FloatTensor> e : out.entrySet()) {
        long[] shape = e.getValue().shape().clone();
        int perRow = Math.toIntExact(product(e.getValue().rowShape()));
        shape[0] = t.rows();
        part.put(e.getKey(), new FloatTensor(shape,
            Arrays.copyOfRange(e.getValue().values(), start * perRow, (start + t.rows()) * perRow)));
      }
      start += t.rows();
      t.result().complete(part);
    }
  }

  private void runAlone(Task t) {
    try {
      t.result().complete(runner.run(t.inputs()));
    } catch (RuntimeException e) {
      t.result().completeExceptionally(e);
    }
  }

  private static long product(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** Runs what is queued, then stops the threads. */
  @Override
  public void close() {
    closed = true;
    queue.add(STOP);
    for (Thread t : workers) {
      try {
        t.join(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
