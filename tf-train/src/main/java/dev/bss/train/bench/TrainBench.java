package dev.bss.train.bench;

import dev.bss.model.ModelConfig;
import dev.bss.train.loop.Batch;
import dev.bss.train.loop.Devices;
import dev.bss.train.loop.TrainingGraph;
import java.io.PrintStream;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Training throughput: full training steps (forward, gradients, Keras Adam, BN updates) per second at a given batch,
 * after a warm-up, on synthetic mixtures (the data pipeline is not part of the measurement).
 */
public final class TrainBench {

  /** Warm-up steps before timing (the first step also optimizes the graph). */
  public static final int WARM_UP = 3;

  private TrainBench() {}

  /** The measured throughput. */
  public record Measurement(int batch, int steps, double secondsPerStep, double samplesPerSecond, String device,
      double warmUpSeconds) {}

  /**
   * The entry point of {@code bss bench --what train}: times each batch size after {@code warmup} steps; returns
   * the exit status.
   */
  public static int run(ModelConfig config, int[] batches, int iterations, int warmup, java.io.PrintWriter out) {
    int threads = Runtime.getRuntime().availableProcessors();
    Devices.Choice choice = Devices.choose("auto", threads);
    if (choice.notice() != null) {
      out.println("notice: " + choice.notice());
    }
    out.println("Training benchmark (forward + gradients + Keras Adam + BN updates per step, synthetic batches); "
        + choice.describe(threads));
    out.printf(Locale.ROOT, "%8s %14s %14s %14s%n", "batch", "samples/s", "ms/step", "warm-up s");
    for (int batch : batches) {
      Measurement m = time(config, batch, iterations, warmup, choice);
      out.printf(Locale.ROOT, "%8d %14.1f %14.1f %14.1f%n", batch, m.samplesPerSecond(), m.secondsPerStep() * 1e3,
          m.warmUpSeconds());
      out.flush();
    }
    return 0;
  }

  /** Runs the benchmark and prints one line per phase to {@code out}. */
  public static void run(ModelConfig config, int batch, int steps, String device, PrintStream out) {
    measure(config, batch, steps, device, Runtime.getRuntime().availableProcessors(), out);
  }

  /** Like {@link #run} with a thread count; returns the measurement. */
  public static Measurement measure(ModelConfig config, int batch, int steps, String device, int threads,
      PrintStream out) {
    if (batch <= 0 || steps <= 0) {
      throw new IllegalArgumentException("bench: --batch and --steps must be positive, found " + batch + " and "
          + steps);
    }
    Devices.Choice choice = Devices.choose(device, threads);
    if (choice.notice() != null) {
      out.println("notice: " + choice.notice());
    }
    out.println(choice.describe(threads));
    Measurement m = time(config, batch, steps, WARM_UP, choice);
    out.printf(Locale.ROOT, "warm-up: %d steps in %.1f s%n", WARM_UP, m.warmUpSeconds());
    out.printf(Locale.ROOT, "train: batch %d, %d steps: %.1f ms/step, %.1f samples/s (%s, %d threads)%n", batch,
        steps, m.secondsPerStep() * 1e3, m.samplesPerSecond(), m.device(), threads);
    return m;
  }

  private static Measurement time(ModelConfig config, int batch, int steps, int warmUp, Devices.Choice choice) {
    if (batch <= 0 || steps <= 0 || warmUp < 0) {
      throw new IllegalArgumentException("bench: batch and steps must be positive, found " + batch + " and "
          + steps);
    }
    Batch data = Batch.allocate(batch);
    SplittableRandom random = new SplittableRandom(1);
    for (int i = 0; i < data.mixture().length; i++) {
      data.mnist()[i] = random.nextFloat();
      data.fashion()[i] = random.nextFloat();
      data.mixture()[i] = (data.mnist()[i] + data.fashion()[i]) / 2;
    }
    try (TrainingGraph graph = new TrainingGraph(config, choice.config())) {
      graph.initialize(graph.model().variables().initialValues(1));
      long t0 = System.nanoTime();
      // At least one untimed step: the first run also optimizes the graph.
      for (int s = 0; s < Math.max(1, warmUp); s++) {
        graph.step(data, 1e-3f, new long[] {1, s});
      }
      double warm = (System.nanoTime() - t0) / 1e9;
      long t1 = System.nanoTime();
      for (int s = 0; s < steps; s++) {
        graph.step(data, 1e-3f, new long[] {1, warmUp + s});
      }
      double seconds = (System.nanoTime() - t1) / 1e9;
      return new Measurement(batch, steps, seconds / steps, steps * (double) batch / seconds,
          choice.gpu() ? "gpu" : "cpu", warm);
    }
  }
}
