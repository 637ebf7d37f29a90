package dev.bss.train.loop;

import dev.bss.interop.RunLayout;
import dev.bss.interop.SeparationResult;
import dev.bss.interop.savedmodel.SavedModelExport;
import dev.bss.model.WeightSet;
import dev.bss.train.data.Batch;
import dev.bss.train.eval.Evaluation;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.io.Plots;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A whole {@code bss train} run: builds the training graph, trains ({@link Trainer}), then writes the run's outputs
 * (run.json, history.csv, loss.png, samples.png, the final model, the checkpoints) and evaluates the result with the
 * seed's protocol against the identity baseline.
 */
public final class TrainingRun {

  private TrainingRun() {}

  /** What a finished run produced. */
  public record Outcome(Trainer.Result training, Evaluation.Report evaluation, Path finalModel, double wallSeconds) {}

  /**
   * Runs training with {@code options} on {@code data} using {@code device}; prints progress and a summary to
   * {@code out}.
   *
   * @param commandLine the arguments as typed, for run.json
   */
  public static Outcome execute(TrainOptions options, PairData data, Devices.Choice device, int threads,
      List<String> commandLine, PrintStream out, boolean terminal) {
    return execute(options, data, device, threads, ResumeCheck.settings(new ResumeCheck.Context(options, data, null,
        device.requested(), threads, Precision.of(device.config()).label())), commandLine, out, terminal);
  }

  /**
   * Runs training as {@link #execute(TrainOptions, PairData, Devices.Choice, int, List, PrintStream, boolean)} does,
   * holding the {@link RunLock} of the output folder for the whole run.
   *
   * @param settings the run's {@link ResumeCheck#settings}: recorded in each checkpoint, and on resume checked
   *     against the checkpoint's before the graph is built
   */
  public static Outcome execute(TrainOptions options, PairData data, Devices.Choice device, int threads,
      Map<String, String> settings, List<String> commandLine, PrintStream out, boolean terminal) {
    Path outDir = options.out();
    if (options.resume() && !Files.isDirectory(outDir)) {
      throw new IllegalArgumentException("--resume: no run folder " + outDir);
    }
    try {
      Files.createDirectories(outDir);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("--out: cannot create " + outDir + ": " + e.getMessage());
    }
    try (RunLock lock = RunLock.acquire(outDir, notice -> out.println("notice: " + notice))) {
      return executeLocked(options, data, device, threads, settings, commandLine, out, terminal);
    }
  }

  private static Outcome executeLocked(TrainOptions options, PairData data, Devices.Choice device, int threads,
      Map<String, String> settings, List<String> commandLine, PrintStream out, boolean terminal) {
    long started = System.nanoTime();
    Path outDir = options.out();
    if (!options.resume() && !Checkpoint.epochCheckpoints(RunLayout.checkpoints(outDir)).isEmpty()) {
      throw new IllegalArgumentException("--out: " + outDir + " already holds checkpoints; use --resume to continue "
          + "that run or choose another --out");
    }
    CheckpointScan.Loaded checkpoint = null;
    String lrText = Double.toString(options.learningRate());
    if (options.resume()) {
      // Everything a resume needs is read and checked here, before the (slow) graph build.
      checkpoint = CheckpointScan.newestIntact(RunLayout.checkpoints(outDir), n -> out.println("notice: " + n));
      ResumeCheck.check(ResumeCheck.recorded(checkpoint.state(), checkpoint.config()), settings, checkpoint.epoch(),
          checkpoint.dir()).forEach(n -> out.println("notice: " + n));
      lrText = checkpoint.state().learningRate() + " (from " + checkpoint.dir().getFileName() + "; initial "
          + lrText + ")";
    }
    if (device.notice() != null) {
      out.println("notice: " + device.notice());
    }
    out.println(device.describe(threads));
    if (Precision.of(device.config()) != Precision.FLOAT32) {
      out.println("precision: " + Precision.of(device.config()).label() + " (mixed: bf16 compute, float32 weights "
          + "and loss)");
    }
    out.println("data: " + data.description());
    out.printf(Locale.ROOT, "model: %s, preset %s: %d epochs x %d steps x batch %d, lr %s, seed %d%n",
        options.config().equals(dev.bss.model.ModelConfig.seed()) ? "seed config"
            : options.config().equals(dev.bss.model.ModelConfig.tiny()) ? "tiny config" : "custom config",
        options.preset(), options.epochs(), options.stepsPerEpoch(), options.batchSize(), lrText, options.seed());
    if (options.fit().init() != null) {
      out.println("init: " + options.fit().init().format().cliName() + " " + options.fit().init().source()
          + " (optimizer fresh: iterations 0, zero slots)");
    }
    RunRecord run = RunRecord.start(options, data, device, threads, commandLine);
    run.write(outDir);

    try (TrainingGraph graph = new TrainingGraph(options.config(), device.config());
        Progress progress = new Progress(out, terminal)) {
      out.printf(Locale.ROOT, "parameters: %,d (%,d trainable)%n", graph.model().variables().parameterCount(),
          graph.model().variables().trainableParameterCount());
      Trainer trainer = new Trainer(options, data, graph, out, progress).resumeFrom(checkpoint, settings);
      Trainer.Result result = trainer.run();
      if (result.status() == Trainer.Status.NON_FINITE_LOSS) {
        run.ended(new RunRecord.Ending(result.status(), result.epochsDone(), result.bestEpoch(),
            result.samplesPerSecond(), result.message(), null, null, Instant.now(), null, null)).write(outDir);
        out.println(result.message());
        return new Outcome(result, null, null, (System.nanoTime() - started) / 1e9);
      }

      // The best weights are in the session now (the seed restores them); save them as the final model.
      WeightSet finalWeights = graph.model().variables().read(graph.session());
      Path finalDir = outDir.resolve(RunLayout.FINAL);
      Checkpoint.writeWeights(finalDir, options.config(), finalWeights, result.bestEpoch(),
          Map.of("note", "best weights of the run (lowest training loss)"));
      Path savedModel = outDir.resolve("saved_model");
      try {
        SavedModelExport.export(savedModel, options.config(), finalWeights, "bss train, " + finalDir);
      } catch (java.io.IOException | RuntimeException e) {
        // The checkpoint in final/ holds the same weights; a failed export must not lose the run.
        savedModel = null;
        out.println("warning: SavedModel export failed (" + e.getMessage() + "); the final weights are in "
            + finalDir);
      }

      Evaluation.Report report = null;
      if (options.sampleCount() > 0) {
        try (Batch samples = Batch.allocate(options.sampleCount())) {
          data.test(Trainer.epochDataSeed(options.seed(), -3)).fill(samples);
          float[] mixture = samples.mixtureValues();
          SeparationResult pred = graph.separate(mixture, samples.size());
          Plots.sampleGrid(outDir.resolve("samples.png"), samples.size(), mixture, samples.mnistValues(),
              samples.fashionValues(), pred.decoded1(), pred.decoded2());
        }
      }
      if (options.evalDraws() > 0) {
        out.printf(Locale.ROOT, "evaluating: %d draws of %d test pairs...%n", options.evalDraws(),
            options.evalSamples());
        report = Evaluation.run(graph, data.test(options.seed()), options.evalDraws(), options.evalSamples(),
            options.seed());
        out.print(report.toText());
      }
      double wall = (System.nanoTime() - started) / 1e9;
      run.ended(new RunRecord.Ending(result.status(), result.epochsDone(), result.bestEpoch(),
          result.samplesPerSecond(), null, savedModel, report == null ? null : report.toMap(), Instant.now(), wall,
          finalDir)).write(outDir);
      out.printf(Locale.ROOT, "%s after %d epochs (best epoch %d) in %.0f s%n",
          result.status() == Trainer.Status.EARLY_STOPPED ? "early-stopped" : "done", result.epochsDone(),
          result.bestEpoch(), wall);
      out.println("outputs in " + outDir.toAbsolutePath() + ":");
      out.println("  run.json, history.csv, loss.png" + (options.sampleCount() > 0 ? ", samples.png" : ""));
      out.println("  final/ (best weights: weights.npz + model.json; `bss evaluate --model " + outDir + "`)");
      if (savedModel != null) {
        out.println("  saved_model/ (TensorFlow SavedModel, signature serving_default: input_img -> decoded1, "
            + "decoded2)");
      }
      out.println("  checkpoints/ (last " + Trainer.KEEP_LAST + " epochs + best; `bss train --resume --out "
          + outDir + "` continues)");
      return new Outcome(result, report, finalDir, wall);
    }
  }
}
