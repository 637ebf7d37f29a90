package dev.bss.train.serve;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and histograms of the server, written in Prometheus's text exposition format (version 0.0.4).
 *
 * <p>{@code bss_serve_requests_total{endpoint, code}}, {@code bss_serve_errors_total{endpoint}} (responses >= 400),
 * {@code bss_serve_batch_size} (rows per session run) and {@code bss_serve_request_duration_seconds} (per
 * request, histograms with cumulative {@code le} buckets, {@code _sum} and {@code _count}).
 */
public final class ServeMetrics {

  private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  private static final double[] LATENCY_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
      5, 10};

  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final Histogram batchSizes = new Histogram(BATCH_BUCKETS);
  private final Histogram latency = new Histogram(LATENCY_BUCKETS);

  private static final class Histogram {
    final double[] bounds;
    final LongAdder[] counts;
    final LongAdder count = new LongAdder();
    final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

    Histogram(double[] bounds) {
      this.bounds = bounds;
      this.counts = new LongAdder[bounds.length];
      for (int i = 0; i < bounds.length; i++) {
        counts[i] = new LongAdder();
      }
    }

    void observe(double v) {
      for (int i = 0; i < bounds.length; i++) {
        if (v <= bounds[i]) {
          counts[i].increment();
          break;
        }
      }
      count.increment();
      sum.add(v);
    }

    void write(StringBuilder sb, String name) {
      long cumulative = 0;
      for (int i = 0; i < bounds.length; i++) {
        cumulative += counts[i].sum();
        sb.append(name).append("_bucket{le=\"").append(number(bounds[i])).append("\"} ").append(cumulative)
            .append('\n');
      }
      sb.append(name).append("_bucket{le=\"+Inf\"} ").append(count.sum()).append('\n');
      sb.append(name).append("_sum ").append(number(sum.sum())).append('\n');
      sb.append(name).append("_count ").append(count.sum()).append('\n');
    }
  }

  /** Records one finished request. */
  public void request(String endpoint, int status, long nanos) {
    requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new LongAdder()).increment();
    if (status >= 400) {
      errors.computeIfAbsent(endpoint, k -> new LongAdder()).increment();
    }
    latency.observe(nanos / 1e9);
  }

  /** Records one session run of {@code rows} rows. */
  public void batch(int rows) {
    batchSizes.observe(rows);
  }

  /** Requests answered so far with this endpoint and status. */
  public long requests(String endpoint, int status) {
    LongAdder a = requests.get(endpoint + "\u0000" + status);
    return a == null ? 0 : a.sum();
  }

  /** Session runs so far. */
  public long batches() {
    return batchSizes.count.sum();
  }

  /** Rows run so far (the sum of the batch sizes). */
  public long batchedRows() {
    return Math.round(batchSizes.sum.sum());
  }

  private static String number(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%s", v);
  }

  /** The metrics in Prometheus's text format. */
  public String prometheusText() {
    StringBuilder sb = new StringBuilder();
    sb.append("# HELP bss_serve_requests_total HTTP requests answered, by endpoint and status code.\n");
    sb.append("# TYPE bss_serve_requests_total counter\n");
    new TreeMap<>(requests).forEach((k, v) -> {
      String[] parts = k.split("\u0000");
      sb.append("bss_serve_requests_total{endpoint=\"").append(parts[0]).append("\",code=\"").append(parts[1])
          .append("\"} ").append(v.sum()).append('\n');
    });
    sb.append("# HELP bss_serve_errors_total HTTP requests answered with a status >= 400, by endpoint.\n");
    sb.append("# TYPE bss_serve_errors_total counter\n");
    new TreeMap<>(errors).forEach((k, v) -> sb.append("bss_serve_errors_total{endpoint=\"").append(k).append("\"} ")
        .append(v.sum()).append('\n'));
    sb.append("# HELP bss_serve_batch_size Rows per session run (dynamic batching).\n");
    sb.append("# TYPE bss_serve_batch_size histogram\n");
    batchSizes.write(sb, "bss_serve_batch_size");
    sb.append("# HELP bss_serve_request_duration_seconds Time from request to response.\n");
    sb.append("# TYPE bss_serve_request_duration_seconds histogram\n");
    latency.write(sb, "bss_serve_request_duration_seconds");
    return sb.toString();
  }
}
