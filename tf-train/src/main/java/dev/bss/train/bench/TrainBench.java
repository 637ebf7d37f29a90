package dev.bss.train.bench;

import dev.bss.model.ModelConfig;
import dev.bss.train.data.Batch;
import dev.bss.train.loop.TrainingGraph;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Tensor;
import org.tensorflow.proto.ConfigProto;

/**
 * Training throughput: full training steps (forward, gradients, Keras Adam, BN updates) per second at a given batch,
 * after a warm-up, on synthetic mixtures fed as the training loop feeds them (the data pipeline is not part of the
 * measurement; {@code bss train} prints the loop's own throughput next to it).
 */
public final class TrainBench {

  private TrainBench() {}

  /**
   * The measured throughput of one batch size.
   *
   * @param batch pairs per step
   * @param steps timed steps
   * @param secondsPerStep mean time of a timed step
   * @param samplesPerSecond {@code batch * steps / total time}
   * @param warmUpSeconds time of the untimed steps (the first one also optimizes the graph)
   * @param profile one traced step after the timed ones, or null
   * @param samplesPerCpuSecond samples of the timed steps over the process CPU time they took
   */
  public record Measurement(int batch, int steps, double secondsPerStep, double samplesPerSecond,
      double warmUpSeconds, Profile.Report profile, double samplesPerCpuSecond) {}

  /**
   * Times {@code steps} training steps at {@code batch} after {@code warmUp} untimed ones (at least one) in a session
   * with {@code sessionConfig}; with {@code profile}, traces one more step.
   */
  public static Measurement time(ModelConfig config, int batch, int steps, int warmUp, ConfigProto sessionConfig,
      boolean profile) {
    if (batch <= 0 || steps <= 0 || warmUp < 0) {
      throw new IllegalArgumentException("bench: batch and steps must be positive, found " + batch + " and "
          + steps);
    }
    SplittableRandom random = new SplittableRandom(1);
    try (Batch data = Batch.allocate(batch);
        TrainingGraph graph = new TrainingGraph(config, sessionConfig)) {
      for (long i = 0; i < (long) batch * TrainingGraph.PIXELS; i++) {
        float mnist = random.nextFloat();
        float fashion = random.nextFloat();
        data.mnist().setFloat(mnist, i);
        data.fashion().setFloat(fashion, i);
        data.mixture().setFloat((mnist + fashion) / 2, i);
      }
      graph.initialize(graph.model().variables().initialValues(1));
      long t0 = System.nanoTime();
      int warm = Math.max(1, warmUp);
      for (int s = 0; s < warm; s++) {
        graph.step(data, 1e-3f, new long[] {1, s});
      }
      double warmSeconds = (System.nanoTime() - t0) / 1e9;
      long t1 = System.nanoTime();
      long cpu0 = CpuTime.processNanos();
      for (int s = 0; s < steps; s++) {
        graph.step(data, 1e-3f, new long[] {1, warm + s});
      }
      double seconds = (System.nanoTime() - t1) / 1e9;
      double cpuSeconds = (CpuTime.processNanos() - cpu0) / 1e9;
      Profile.Report report = null;
      if (profile) {
        List<Tensor> tensors = new ArrayList<>();
        try {
          report = Profile.trace(graph.stepRunner(data, 1e-3f, new long[] {1, warm + steps}, true, tensors));
        } finally {
          tensors.forEach(Tensor::close);
        }
      }
      return new Measurement(batch, steps, seconds / steps, steps * (double) batch / seconds, warmSeconds, report,
          steps * (double) batch / cpuSeconds);
    }
  }
}
