package dev.bss.train.cli;

import com.google.gson.GsonBuilder;
import dev.bss.model.ModelConfig;
import dev.bss.train.bench.FlopCount;
import dev.bss.train.bench.InferenceBench;
import dev.bss.train.bench.Peak;
import dev.bss.train.bench.Profile;
import dev.bss.train.bench.TrainBench;
import dev.bss.train.loop.Devices;
import dev.bss.train.loop.Precision;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bss bench}: throughput of inference or training on this machine, next to the machine's own FP32 peak
 * measured in the same process ({@link Peak}): per batch size, samples/s, the achieved GFLOP/s (from the network's
 * counted FLOPs, {@link FlopCount}) and the percentage of that peak, and of the peak measured again right before
 * the case ("now", for a machine whose load changes), and the same ratio per CPU-second of the process (which other
 * processes' load hardly changes; idle gaps inside a step are not counted); {@code --profile} adds the top op types of one
 * traced run ({@link Profile}); {@code --json} prints one JSON object instead.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measures inference (or training) throughput on this machine and compares it with the machine's "
        + "FP32 matrix-multiply peak, measured first in the same process with the same threads.",
        "Achieved GFLOP/s = samples/s x the network's counted FLOPs per sample (convolutions and matrix multiplies, "
            + "2 per multiply-add, counted from the graph)."})
public final class BenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  /** Largest batch timed: TensorFlow's activations for the seed network take about 2 MB a sample. */
  static final int MAX_BATCH = 4096;

  @Option(names = "--what", paramLabel = "infer|train|serve", defaultValue = "infer",
      description = "What to time: infer (default), train or serve (a load test of bss serve on loopback).")
  String what;

  @Option(names = "--config", paramLabel = "seed|tiny|FILE", defaultValue = "seed", description = ConfigOption.DESCRIPTION)
  String config;

  @Option(names = "--batch", paramLabel = "N[,N...]", split = ",", defaultValue = "1,64",
      description = "Batch sizes (default: 1,64).")
  int[] batches;

  @Option(names = "--iterations", paramLabel = "N", defaultValue = "30",
      description = "Timed runs (steps) per batch size (default: 30).")
  int iterations;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "5",
      description = "Untimed runs per batch size first (default: 5; training does at least 1).")
  int warmup;

  @Option(names = "--seconds", paramLabel = "S", defaultValue = "30",
      description = "--what serve: seconds per concurrency (default: 30).")
  double seconds;

  @Option(names = "--concurrency", paramLabel = "N[,N...]", split = ",", defaultValue = "1,8,32",
      description = "--what serve: concurrent clients (default: 1,8,32).")
  int[] concurrency;

  @Option(names = "--precision", paramLabel = "float32|bf16", defaultValue = "float32",
      description = "float32 (default) or bf16 (Keras's mixed_bfloat16; needs AVX512_BF16 or AMX). The percentage "
          + "is always of the FP32 peak.")
  String precision;

  @Option(names = "--threads", paramLabel = "N", description = "Intra-op threads (default: available processors).")
  Integer threads;

  @Option(names = "--peak-size", paramLabel = "N", defaultValue = "" + Peak.DEFAULT_SIZE,
      description = "n of the n x n MatMul that measures the peak (default: ${DEFAULT-VALUE}).")
  int peakSize;

  @Option(names = "--peak-runs", paramLabel = "N", defaultValue = "10",
      description = "Timed MatMul runs; the best is the peak (default: ${DEFAULT-VALUE}).")
  int peakRuns;

  @Option(names = "--profile", paramLabel = "TOP", arity = "0..1", fallbackValue = "15",
      description = "After timing, trace one run per batch size and print the TOP op types by time (default 15).")
  Integer profile;

  @Option(names = "--json", description = "Print one JSON object instead of the table.")
  boolean json;

  @Mixin VerboseOption verbose;

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
    if (peakSize < 1 || peakRuns < 1) {
      throw new Cli.UserException("--peak-size and --peak-runs: expected numbers >= 1, found " + peakSize + " and "
          + peakRuns);
    }
    if (profile != null && profile < 1) {
      throw new Cli.UserException("--profile: expected a number of op types >= 1, found " + profile);
    }
    if (!what.equals("infer") && !what.equals("train") && !what.equals("serve")) {
      throw new Cli.UserException("--what: expected infer, train or serve, found '" + what + "'");
    }
    Precision mode = Precision.parse(precision);
    mode.checkSupported();
    int threadCount = Devices.threadCount(threads);
    ModelConfig modelConfig = ConfigOption.resolve(config);
    if (what.equals("serve")) {
      return serve(modelConfig, spec.commandLine().getOut());
    }
    PrintWriter out = spec.commandLine().getOut();
    boolean training = what.equals("train");

    Devices.Choice choice = Devices.choose("auto", threadCount);
    Peak.Measurement peak = Peak.measure(choice.config(), peakSize, peakRuns);
    Peak.Measurement precisionPeak = mode == Precision.FLOAT32 ? null
        : Peak.measure(mode.apply(choice.config()), peakSize, peakRuns);
    FlopCount.Flops flops = FlopCount.of(modelConfig);
    long perSample = training ? flops.training() : flops.inference();
    if (!json) {
      if (choice.notice() != null) {
        out.println("notice: " + choice.notice());
      }
      out.printf(Locale.ROOT, "%s benchmark, config %s, precision %s; %s%n",
          training ? "Training (forward + gradients + Keras Adam + BN updates per step, synthetic batches)"
              : "Inference (both heads per run)", config, mode.label(), choice.describe(threadCount));
      out.printf(Locale.ROOT, "FP32 peak: %.1f GFLOP/s (MatMul %dx%d through TensorFlow, same threads; best of %d, "
          + "median %.1f; %.1f GFLOP per CPU-second)%n", peak.bestGflops(), peakSize, peakSize, peakRuns,
          peak.medianGflops(), peak.gflopsPerCpuSecond());
      if (precisionPeak != null) {
        out.printf(Locale.ROOT, "%s MatMul peak: %.1f GFLOP/s (same MatMul under the %s session; median %.1f)%n",
            mode.label(), precisionPeak.bestGflops(), mode.label(), precisionPeak.medianGflops());
      }
      out.printf(Locale.ROOT, "counted FLOPs per sample: %.3f GFLOP %s (training %.3f, inference %.3f; "
          + "convolutions and matrix multiplies)%n", perSample / 1e9, what, flops.training() / 1e9,
          flops.inference() / 1e9);
      out.printf(Locale.ROOT, "%8s %12s %12s %12s %10s %11s %10s %10s %10s%n", "batch", "samples/s",
          training ? "ms/step" : "median ms", training ? "warm-up s" : "p90 ms", "GFLOP/s", "% of peak",
          "peak now", "% of now", "% CPU-time");
      out.flush();
    }
    List<Map<String, Object>> cases = new ArrayList<>();
    for (int batch : batches) {
      Map<String, Object> row = new LinkedHashMap<>();
      double samplesPerSecond;
      double samplesPerCpuSecond;
      Profile.Report report;
      row.put("batch", batch);
      // The peak again right before the case: on a shared machine the load changes, and the ratio is only
      // meaningful between measurements close in time.
      Peak.Measurement localPeak = Peak.measure(choice.config(), peakSize, peakRuns);
      if (training) {
        TrainBench.Measurement m = TrainBench.time(modelConfig, batch, iterations, warmup,
            mode.apply(choice.config()), profile != null);
        samplesPerSecond = m.samplesPerSecond();
        samplesPerCpuSecond = m.samplesPerCpuSecond();
        report = m.profile();
        row.put("samples_per_second", samplesPerSecond);
        row.put("ms_per_step", m.secondsPerStep() * 1e3);
        row.put("warm_up_seconds", m.warmUpSeconds());
      } else {
        InferenceBench.Timing t = InferenceBench.run(modelConfig, new int[] {batch}, iterations, warmup,
            mode.apply(choice.config()), profile != null).get(0);
        samplesPerSecond = t.samplesPerSecond();
        samplesPerCpuSecond = t.samplesPerCpuSecond();
        report = t.profile();
        row.put("samples_per_second", samplesPerSecond);
        row.put("median_ms", t.medianMillis());
        row.put("p90_ms", t.p90Millis());
      }
      double gflops = samplesPerSecond * perSample / 1e9;
      double percent = 100 * gflops / peak.bestGflops();
      double localPercent = 100 * gflops / localPeak.bestGflops();
      row.put("gflops", gflops);
      row.put("percent_of_peak", percent);
      row.put("peak_before_case_gflops", localPeak.bestGflops());
      row.put("percent_of_peak_before_case", localPercent);
      // Per CPU-second, both: what a shared machine's load does not change (idle gaps inside a step do not count).
      double cpuPercent = 100 * samplesPerCpuSecond * perSample / 1e9 / localPeak.gflopsPerCpuSecond();
      row.put("samples_per_cpu_second", samplesPerCpuSecond);
      row.put("percent_of_peak_cpu_time", cpuPercent);
      if (report != null) {
        List<Map<String, Object>> ops = new ArrayList<>();
        for (Profile.OpTime op : report.ops().subList(0, Math.min(profile, report.ops().size()))) {
          Map<String, Object> o = new LinkedHashMap<>();
          o.put("type", op.type());
          o.put("nodes", op.count());
          o.put("ms", op.micros() / 1e3);
          o.put("share", (double) op.micros() / Math.max(1, report.totalOpMicros()));
          ops.add(o);
        }
        row.put("profile", Map.of("wall_ms", report.wallMicros() / 1e3, "summed_op_ms",
            report.totalOpMicros() / 1e3, "top", ops));
      }
      cases.add(row);
      if (!json) {
        out.printf(Locale.ROOT, "%8d %12.1f %12.2f %12.2f %10.1f %10.1f%% %10.1f %9.1f%% %9.1f%%%n", batch,
            samplesPerSecond, (Double) row.getOrDefault("ms_per_step", row.get("median_ms")),
            (Double) row.getOrDefault("warm_up_seconds", row.get("p90_ms")), gflops, percent,
            localPeak.bestGflops(), localPercent, cpuPercent);
        if (report != null) {
          report.print(out, what + " batch " + batch, profile);
        }
        out.flush();
      }
    }
    if (json) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("what", what);
      map.put("config", config);
      map.put("precision", mode.label());
      map.put("threads", threadCount);
      map.put("device", choice.gpu() ? "gpu" : "cpu");
      map.put("peak_gflops", peak.bestGflops());
      map.put("peak_median_gflops", peak.medianGflops());
      map.put("peak_gflops_per_cpu_second", peak.gflopsPerCpuSecond());
      map.put("peak_matmul_size", peakSize);
      if (precisionPeak != null) {
        map.put("precision_peak_gflops", precisionPeak.bestGflops());
      }
      map.put("flops_per_sample", perSample);
      map.put("training_flops_per_sample", flops.training());
      map.put("inference_flops_per_sample", flops.inference());
      map.put("cases", cases);
      out.println(new GsonBuilder().setPrettyPrinting().create().toJson(map));
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
}
