package dev.bss.train.serve;

import dev.bss.model.ModelConfig;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bss bench --what serve}: a load test of {@code bss serve} on loopback. The server runs in this process on a
 * free port with the network's initial weights (seeded); clients post one-instance row-format predict requests in a
 * closed loop at each concurrency for a fixed time, with batching off ({@code --max-batch 1}) and on (64, 2 ms).
 * Reports requests/s, p50 and p99 latency, errors and the mean batch size, then the gain from batching.
 */
public final class ServeBench {

  /** One measured run. */
  public record Run(int maxBatch, int concurrency, long requests, long errors, double seconds, double p50Millis,
      double p99Millis, double meanBatch) {
    public double throughput() {
      return requests / seconds;
    }
  }

  private ServeBench() {}

  /**
   * Runs the load test and prints a table.
   *
   * @param concurrencies client counts, each run for {@code seconds}
   * @return 0 when no request failed, 1 otherwise
   */
  public static int run(ModelConfig config, String configName, int[] concurrencies, double seconds,
      PrintWriter out) {
    String body = requestBody();
    List<Run> runs = new ArrayList<>();
    out.printf(Locale.ROOT, "Serve benchmark: bss serve in-process on 127.0.0.1, config %s with initial weights, "
        + "one-instance row-format predict requests in a closed loop, %.0f s per run (%d CPU cores visible to Java; "
        + "clients share them)%n", configName, seconds, Runtime.getRuntime().availableProcessors());
    out.printf(Locale.ROOT, "%9s %11s %12s %9s %9s %8s %10s%n", "max-batch", "concurrency", "requests/s", "p50 ms",
        "p99 ms", "errors", "mean batch");
    out.flush();
    try (ServedModel model = new SeparatorServed(dev.bss.interop.Separators.initialWeights(config, 1))) {
      for (int maxBatch : new int[] {1, 64}) {
        ServeServer server = new ServeServer(model, new ServeServer.Options("bss", "127.0.0.1", 0, maxBatch, 2_000, 1,
            16 << 20, 60_000));
        try {
          load(server, body, 4, Math.min(2.0, seconds)); // warm-up
          for (int c : concurrencies) {
            Run r = measure(server, body, maxBatch, c, seconds);
            runs.add(r);
            out.printf(Locale.ROOT, "%9d %11d %12.1f %9.2f %9.2f %8d %10.2f%n", r.maxBatch(), r.concurrency(),
                r.throughput(), r.p50Millis(), r.p99Millis(), r.errors(), r.meanBatch());
            out.flush();
          }
        } finally {
          server.close();
        }
      }
    }
    for (int c : concurrencies) {
      Run off = runs.stream().filter(r -> r.maxBatch() == 1 && r.concurrency() == c).findFirst().orElseThrow();
      Run on = runs.stream().filter(r -> r.maxBatch() == 64 && r.concurrency() == c).findFirst().orElseThrow();
      out.printf(Locale.ROOT, "gain from batching at concurrency %d: %.2fx throughput (%.1f -> %.1f requests/s), "
          + "p99 %.2f -> %.2f ms%n", c, on.throughput() / off.throughput(), off.throughput(), on.throughput(),
          off.p99Millis(), on.p99Millis());
    }
    long errors = runs.stream().mapToLong(Run::errors).sum();
    out.println(errors == 0 ? "errors: none" : "errors: " + errors);
    out.flush();
    return errors == 0 ? 0 : 1;
  }

  private static String requestBody() {
    SplittableRandom random = new SplittableRandom(7);
    StringBuilder sb = new StringBuilder("{\"instances\": [[");
    for (int y = 0; y < 32; y++) {
      sb.append(y == 0 ? "[" : ", [");
      for (int x = 0; x < 32; x++) {
        sb.append(x == 0 ? "[" : ", [").append((float) random.nextDouble()).append(']');
      }
      sb.append(']');
    }
    return sb.append("]]}").toString();
  }

  private static Run measure(ServeServer server, String body, int maxBatch, int concurrency, double seconds) {
    long batches0 = server.metrics().batches();
    long rows0 = server.metrics().batchedRows();
    long t0 = System.nanoTime();
    Load load = load(server, body, concurrency, seconds);
    double elapsed = (System.nanoTime() - t0) / 1e9;
    long batches = server.metrics().batches() - batches0;
    long rows = server.metrics().batchedRows() - rows0;
    double[] sorted = load.latencies();
    Arrays.sort(sorted);
    return new Run(maxBatch, concurrency, sorted.length, load.errors(), elapsed, percentile(sorted, 0.5),
        percentile(sorted, 0.99), batches == 0 ? 0 : rows / (double) batches);
  }

  private record Load(double[] latencies, long errors) {}

  private static Load load(ServeServer server, String body, int concurrency, double seconds) {
    URI uri = server.uri().resolve("/v1/models/bss:predict");
    HttpClient client = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(4)).build();
    HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    AtomicLong errors = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    List<Future<double[]>> futures = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      futures.add(pool.submit(() -> {
        double[] lat = new double[1024];
        int n = 0;
        while (System.nanoTime() < end) {
          long t = System.nanoTime();
          try {
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200 || !r.body().startsWith("{\"predictions\"")) {
              errors.incrementAndGet();
              continue;
            }
          } catch (java.io.IOException e) {
            errors.incrementAndGet();
            continue;
          }
          if (n == lat.length) {
            lat = Arrays.copyOf(lat, n * 2);
          }
          lat[n++] = (System.nanoTime() - t) / 1e6;
        }
        return Arrays.copyOf(lat, n);
      }));
    }
    List<Double> all = new ArrayList<>();
    try {
      for (Future<double[]> f : futures) {
        for (double d : f.get()) {
          all.add(d);
        }
      }
    } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("load test failed: " + e, e);
    } finally {
      pool.shutdownNow();
      client.executor().ifPresent(e -> ((ExecutorService) e).shutdownNow());
    }
    return new Load(all.stream().mapToDouble(Double::doubleValue).toArray(), errors.get());
  }

  private static double percentile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
