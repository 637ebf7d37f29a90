package dev.bss.train.bench;

import dev.bss.model.ModelConfig;
import dev.bss.model.SeparationModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Inference throughput and latency of the network's inference branch (both heads per run): one graph built once,
 * randomly initialized weights (speed does not depend on the values), warm-up runs first, then timed runs.
 */
public final class InferenceBench {

  /**
   * Timing of one batch size.
   *
   * @param batch samples per run
   * @param iterations timed runs
   * @param medianMillis median latency of one run
   * @param p90Millis 90th-percentile latency of one run
   * @param samplesPerSecond {@code batch * iterations / total time}
   * @param profile one traced run after the timed ones, or null
   * @param samplesPerCpuSecond samples of the timed runs over the process CPU time they took
   */
  public record Timing(int batch, int iterations, double medianMillis, double p90Millis, double samplesPerSecond,
      Profile.Report profile, double samplesPerCpuSecond) {}

  private InferenceBench() {}

  /** Times {@code iterations} runs per batch size after {@code warmup} untimed ones, TensorFlow's default session. */
  public static List<Timing> run(ModelConfig config, int[] batches, int iterations, int warmup) {
    return run(config, batches, iterations, warmup, null, false);
  }

  /**
   * Times {@code iterations} runs per batch size after {@code warmup} untimed ones in a session with
   * {@code sessionConfig} (null: TensorFlow's defaults); with {@code profile}, traces one more run per batch size.
   */
  public static List<Timing> run(ModelConfig config, int[] batches, int iterations, int warmup,
      ConfigProto sessionConfig, boolean profile) {
    List<Timing> timings = new ArrayList<>();
    try (Graph graph = new Graph()) {
      SeparationModel model = SeparationModel.build(Ops.create(graph), config);
      try (Session session = sessionConfig == null ? new Session(graph) : new Session(graph, sessionConfig)) {
        model.variables().assign(session, model.variables().initialValues(1));
        SplittableRandom random = new SplittableRandom(7);
        for (int batch : batches) {
          float[] mixtures = new float[batch * ModelConfig.IMAGE_SIZE * ModelConfig.IMAGE_SIZE];
          for (int i = 0; i < mixtures.length; i++) {
            mixtures[i] = (float) random.nextDouble();
          }
          try (TFloat32 input = TFloat32.tensorOf(Shape.of(batch, ModelConfig.IMAGE_SIZE, ModelConfig.IMAGE_SIZE, 1),
              DataBuffers.of(mixtures, true, false))) {
            for (int i = 0; i < warmup; i++) {
              runOnce(session, model, input);
            }
            double[] millis = new double[iterations];
            long start = System.nanoTime();
            long cpu0 = CpuTime.processNanos();
            for (int i = 0; i < iterations; i++) {
              long t0 = System.nanoTime();
              runOnce(session, model, input);
              millis[i] = (System.nanoTime() - t0) / 1e6;
            }
            double totalSeconds = (System.nanoTime() - start) / 1e9;
            double cpuSeconds = (CpuTime.processNanos() - cpu0) / 1e9;
            double[] sorted = millis.clone();
            Arrays.sort(sorted);
            Profile.Report report = profile ? Profile.trace(runner(session, model, input)) : null;
            timings.add(new Timing(batch, iterations, percentile(sorted, 0.5), percentile(sorted, 0.9),
                batch * (double) iterations / totalSeconds, report, batch * (double) iterations / cpuSeconds));
          }
        }
      }
    }
    return timings;
  }

  private static Session.Runner runner(Session session, SeparationModel model, TFloat32 input) {
    return session.runner().feed(model.input(), input).fetch(model.decoded1(false)).fetch(model.decoded2(false));
  }

  private static void runOnce(Session session, SeparationModel model, TFloat32 input) {
    try (Result result = runner(session, model, input).run()) {
      if (result.size() != 2) {
        throw new IllegalStateException("expected both heads, got " + result.size() + " outputs");
      }
    }
  }

  /** Nearest-rank percentile of sorted values. */
  static double percentile(double[] sorted, double q) {
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
