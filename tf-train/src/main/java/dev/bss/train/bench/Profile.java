package dev.bss.train.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;

/**
 * Where the time of one session run goes, by op type: the run is traced with {@code RunOptions} FULL_TRACE and its
 * step stats (one {@code NodeExecStats} per executed node, on the graph as Grappler and oneDNN rewrote it, so the
 * types are the kernels that ran, e.g. {@code _MklNativeConv2DBackpropFilter}) are summed per type.
 */
public final class Profile {

  /**
   * Time of one op type in a run.
   *
   * @param type op type as executed (from the node's timeline label)
   * @param count nodes of that type executed
   * @param micros summed node time (start to end of each node, outputs included)
   */
  public record OpTime(String type, int count, long micros) {}

  /**
   * A traced run.
   *
   * @param wallMicros wall time of the traced run (tracing adds some overhead)
   * @param totalOpMicros summed time of every node
   * @param ops op types by time, largest first
   */
  public record Report(long wallMicros, long totalOpMicros, List<OpTime> ops) {

    /** Prints the {@code top} op types by time, with their share of the summed node time. */
    public void print(PrintWriter out, String title, int top) {
      out.printf(Locale.ROOT, "profile: %s: %.1f ms wall, %.1f ms summed over nodes; top op types:%n", title,
          wallMicros / 1e3, totalOpMicros / 1e3);
      out.printf(Locale.ROOT, "  %-44s %6s %10s %7s%n", "op type", "nodes", "ms", "share");
      for (OpTime t : ops.subList(0, Math.min(top, ops.size()))) {
        out.printf(Locale.ROOT, "  %-44s %6d %10.2f %6.1f%%%n", t.type(), t.count(), t.micros() / 1e3,
            100.0 * t.micros() / Math.max(1, totalOpMicros));
      }
      out.flush();
    }
  }

  private Profile() {}

  /** Runs {@code runner} once with a full trace and sums its step stats by op type. */
  public static Report trace(Session.Runner runner) {
    runner.setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build());
    long t0 = System.nanoTime();
    RunMetadata metadata;
    try (Result result = runner.runAndFetchMetadata()) {
      metadata = result.getMetadata().orElseThrow(() -> new IllegalStateException("the run returned no metadata"));
    }
    long wall = (System.nanoTime() - t0) / 1000;
    return summarize(metadata, wall);
  }

  /** Sums the step stats of {@code metadata} by op type. */
  public static Report summarize(RunMetadata metadata, long wallMicros) {
    Map<String, long[]> byType = new HashMap<>();
    long total = 0;
    for (DeviceStepStats device : metadata.getStepStats().getDevStatsList()) {
      for (NodeExecStats node : device.getNodeStatsList()) {
        String type = opType(node);
        long micros = Math.max(0, node.getAllEndRelMicros());
        long[] acc = byType.computeIfAbsent(type, k -> new long[2]);
        acc[0]++;
        acc[1] += micros;
        total += micros;
      }
    }
    List<OpTime> ops = new ArrayList<>();
    byType.forEach((type, acc) -> ops.add(new OpTime(type, (int) acc[0], acc[1])));
    ops.sort(Comparator.comparingLong(OpTime::micros).reversed().thenComparing(OpTime::type));
    return new Report(wallMicros, total, ops);
  }

  /** The op type from a timeline label {@code "name = Type(inputs)"}; the node name when there is no label. */
  static String opType(NodeExecStats node) {
    String label = node.getTimelineLabel();
    int eq = label.indexOf(" = ");
    if (eq < 0) {
      return label.isEmpty() ? "(" + node.getNodeName() + ")" : label;
    }
    int paren = label.indexOf('(', eq);
    return label.substring(eq + 3, paren < 0 ? label.length() : paren).trim();
  }
}
