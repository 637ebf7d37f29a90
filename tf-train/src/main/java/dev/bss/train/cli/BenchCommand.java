package dev.bss.train.cli;

import dev.bss.model.ModelConfig;
import dev.bss.train.bench.InferenceBench;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bss bench}: throughput and latency on this machine. {@code --what infer} times the inference branch;
 * {@code --what train} delegates to {@code dev.bss.train.bench.TrainBench} (the training work's benchmark) through
 * {@code public static int run(ModelConfig, int[] batches, int iterations, int warmup, PrintWriter out)}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measures inference (or training) throughput and per-batch latency on this machine.")
public final class BenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  /** Largest batch timed: TensorFlow's activations for the seed network take about 2 MB a sample. */
  static final int MAX_BATCH = 4096;

  /** Class of the training benchmark, looked up at run time so that this command builds without it. */
  static final String TRAIN_BENCH_CLASS = "dev.bss.train.bench.TrainBench";

  @Option(names = "--what", paramLabel = "infer|train|serve", defaultValue = "infer",
      description = "What to time: infer (default), train or serve (a load test of bss serve on loopback).")
  String what;

  @Option(names = "--config", paramLabel = "seed|tiny|FILE", defaultValue = "seed", description = ConfigOption.DESCRIPTION)
  String config;

  @Option(names = "--batch", paramLabel = "N[,N...]", split = ",", defaultValue = "1,64",
      description = "Batch sizes (default: 1,64).")
  int[] batches;

  @Option(names = "--iterations", paramLabel = "N", defaultValue = "30",
      description = "Timed runs per batch size (default: 30).")
  int iterations;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "5",
      description = "Untimed runs per batch size first (default: 5).")
  int warmup;

  @Option(names = "--seconds", paramLabel = "S", defaultValue = "30",
      description = "--what serve: seconds per concurrency (default: 30).")
  double seconds;

  @Option(names = "--concurrency", paramLabel = "N[,N...]", split = ",", defaultValue = "1,8,32",
      description = "--what serve: concurrent clients (default: 1,8,32).")
  int[] concurrency;

  @Option(names = "--verbose", description = "Stack traces on errors.")
  boolean verbose;

  @Override
  public Integer call() {
    if (iterations < 1) {
      throw new Cli.UserException("--iterations: expected a number >= 1, found " + iterations);
    }
    if (warmup < 0) {
      throw new Cli.UserException("--warmup: expected a number >= 0, found " + warmup);
    }
    for (int b : batches) {
      if (b < 1 || b > MAX_BATCH) {
        throw new Cli.UserException("--batch: expected sizes from 1 to " + MAX_BATCH + ", found "
            + Arrays.toString(batches));
      }
    }
    ModelConfig modelConfig = ConfigOption.resolve(config);
    return switch (what) {
      case "infer" -> infer(modelConfig, spec.commandLine().getOut());
      case "train" -> train(modelConfig, spec.commandLine().getOut());
      case "serve" -> serve(modelConfig, spec.commandLine().getOut());
      default -> throw new Cli.UserException("--what: expected infer, train or serve, found '" + what + "'");
    };
  }

  private int infer(ModelConfig modelConfig, PrintWriter out) {
    out.printf(Locale.ROOT, "Inference benchmark, config %s (%d CPU cores visible to Java), %d warm-up + %d timed "
        + "runs per batch size, both heads per run%n", config, Runtime.getRuntime().availableProcessors(), warmup,
        iterations);
    out.printf(Locale.ROOT, "%8s %14s %14s %14s%n", "batch", "samples/s", "median ms", "p90 ms");
    for (InferenceBench.Timing t : InferenceBench.run(modelConfig, batches, iterations, warmup)) {
      out.printf(Locale.ROOT, "%8d %14.1f %14.2f %14.2f%n", t.batch(), t.samplesPerSecond(), t.medianMillis(),
          t.p90Millis());
      out.flush();
    }
    return 0;
  }

  private int serve(ModelConfig modelConfig, PrintWriter out) {
    if (!(seconds > 0 && seconds <= 3600)) {
      throw new Cli.UserException("--seconds: expected 0 < S <= 3600, found " + seconds);
    }
    for (int c : concurrency) {
      if (c < 1 || c > 1024) {
        throw new Cli.UserException("--concurrency: expected 1..1024, found " + Arrays.toString(concurrency));
      }
    }
    return dev.bss.train.serve.ServeBench.run(modelConfig, config, concurrency, seconds, out);
  }

  private int train(ModelConfig modelConfig, PrintWriter out) {
    Method run;
    try {
      run = Class.forName(TRAIN_BENCH_CLASS).getMethod("run", ModelConfig.class, int[].class, int.class, int.class,
          PrintWriter.class);
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      throw new Cli.UserException("--what train: the training benchmark is not available in this build ("
          + TRAIN_BENCH_CLASS + " is missing)", 3);
    }
    try {
      return (Integer) run.invoke(null, modelConfig, batches, iterations, warmup, out);
    } catch (InvocationTargetException e) {
      throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }
}
