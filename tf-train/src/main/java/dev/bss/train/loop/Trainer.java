package dev.bss.train.loop;

import dev.bss.interop.RunLayout;
import dev.bss.model.WeightSet;
import dev.bss.train.data.Batch;
import dev.bss.train.callbacks.BestWeightsKeeper;
import dev.bss.train.callbacks.EarlyStopping;
import dev.bss.train.callbacks.ReduceLrOnPlateau;
import dev.bss.train.eval.Evaluation;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.io.HistoryCsv;
import dev.bss.train.io.Plots;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop of the seed ({@code model.fit} with EarlyStopping, ReduceLROnPlateau and a best-weights keeper),
 * with per-epoch checkpoints that a killed run resumes from bit for bit.
 *
 * <p>Everything random derives from the run seed: initial weights from {@code seed}, the pairs of epoch {@code e}
 * from {@link #epochDataSeed(long, int)}, the dropout masks of global step {@code s} from {@code [seed, s]}. So a
 * run resumed at an epoch boundary replays exactly what an uninterrupted run would have done.
 */
public final class Trainer {

  /** The checkpoint format written into state.json. */
  public static final String FORMAT = "bss-train-checkpoint-1";
  /** Epoch checkpoints kept besides the best one. */
  public static final int KEEP_LAST = 2;

  private final TrainOptions options;
  private final PairData data;
  private final TrainingGraph graph;
  private final PrintStream out;
  private final Progress progress;
  private CheckpointScan.Loaded resumeFrom;
  private Map<String, String> settings;

  /** How a run ended. */
  public enum Status { COMPLETED, EARLY_STOPPED, NON_FINITE_LOSS }

  /** The outcome of {@link #run()}. */
  public record Result(Status status, int epochsDone, int bestEpoch, List<Map<String, Double>> history,
      double samplesPerSecond, String message) {}

  /** Sees every training step right after it ran (tests hold the loop to Keras's per-step values with it). */
  @FunctionalInterface
  public interface StepObserver {
    /**
     * @param epoch 0-based epoch
     * @param step 0-based step within the epoch
     * @param globalStep optimizer iterations after this step
     * @param batch the pairs of this step
     * @param loss the step's losses (weights before its update)
     */
    void afterStep(int epoch, int step, long globalStep, Batch batch, TrainingGraph.StepLoss loss);
  }

  private StepObserver stepObserver;

  /** Calls {@code observer} after every step of {@link #run()}; returns this. */
  public Trainer observeSteps(StepObserver observer) {
    this.stepObserver = observer;
    return this;
  }

  public Trainer(TrainOptions options, PairData data, TrainingGraph graph, PrintStream out, Progress progress) {
    this.options = options;
    this.data = data;
    this.graph = graph;
    this.out = out;
    this.progress = progress;
  }

  /**
   * Resumes from {@code checkpoint}, already read and checked against {@code settings} (the run's
   * {@link ResumeCheck#settings}, recorded in each checkpoint). Without this call a resumed run finds and checks its
   * checkpoint itself.
   */
  public Trainer resumeFrom(CheckpointScan.Loaded checkpoint, Map<String, String> settings) {
    this.resumeFrom = checkpoint;
    this.settings = settings;
    return this;
  }

  /** Seed of the training pairs of epoch {@code epoch} (0-based): a SplitMix64 mix so epochs do not overlap. */
  public static long epochDataSeed(long runSeed, int epoch) {
    long z = runSeed + 0x9E3779B97F4A7C15L * (epoch + 1L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Seed of the validation pairs (fixed for the run so epochs are comparable). */
  public static long validationSeed(long runSeed) {
    return epochDataSeed(runSeed, -2);
  }

  public Path checkpointsDir() {
    return RunLayout.checkpoints(options.out());
  }

  /**
   * Trains from scratch (or from the last checkpoint when {@link TrainOptions#resume()}), writing checkpoints,
   * history.csv and loss.png each epoch; at the end the best weights are in the session.
   */
  public Result run() {
    CallbackSettings cb = options.fit().callbacks();
    EarlyStopping earlyStopping = new EarlyStopping(cb.earlyStoppingPatience(), 0);
    ReduceLrOnPlateau reduceLr = new ReduceLrOnPlateau(cb.reduceLrFactor(), cb.reduceLrPatience(), cb.minLr(),
        cb.reduceLrMinDelta(), 0);
    BestWeightsKeeper keeper = new BestWeightsKeeper();
    List<Map<String, Double>> history = new ArrayList<>();
    float lr = (float) options.learningRate();
    int startEpoch = 0;
    long globalStep = 0;
    boolean stopped = false;

    Path lastCheckpoint = null;
    if (settings == null) {
      settings = ResumeCheck.settings(ResumeCheck.Context.of(options, data));
    }
    if (options.resume()) {
      CheckpointScan.Loaded checkpoint = resumeFrom;
      if (checkpoint == null) {
        checkpoint = CheckpointScan.newestIntact(checkpointsDir(), notice -> out.println("notice: " + notice));
        ResumeCheck.check(ResumeCheck.recorded(checkpoint.state(), checkpoint.config()), settings, checkpoint.epoch(),
            checkpoint.dir()).forEach(notice -> out.println("notice: " + notice));
      }
      lastCheckpoint = checkpoint.dir();
      Map<String, Object> state = checkpoint.state();
      graph.model().variables().assign(graph.session(), checkpoint.weights());
      graph.optimizer().assign(graph.session(), checkpoint.optimizer());
      startEpoch = number(state, "epoch").intValue();
      globalStep = number(state, "global_step").longValue();
      lr = Float.parseFloat(String.valueOf(state.get("learning_rate")));
      stopped = Boolean.TRUE.equals(state.get("stopped"));
      @SuppressWarnings("unchecked")
      Map<String, Map<String, Object>> callbacks = (Map<String, Map<String, Object>>) state.get("callbacks");
      earlyStopping.restore(callbacks.get("early_stopping"));
      reduceLr.restore(callbacks.get("reduce_lr_on_plateau"));
      keeper.restore(callbacks.get("best_weights"));
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> saved = (List<Map<String, Object>>) state.get("history");
      for (Map<String, Object> row : saved) {
        Map<String, Double> h = new LinkedHashMap<>();
        row.forEach((k, v) -> h.put(k, Double.parseDouble(String.valueOf(v))));
        history.add(h);
      }
      if (graph.optimizer().iterations(graph.session()) != globalStep) {
        throw new IllegalArgumentException(lastCheckpoint + ": optimizer iterations "
            + graph.optimizer().iterations(graph.session()) + " do not match global_step " + globalStep);
      }
      out.printf(Locale.ROOT, "resuming from %s (epoch %d done, step %d, lr %s)%n", lastCheckpoint, startEpoch,
          globalStep, lr);
    } else {
      // --init: the given weights, Adam fresh (iterations 0, zero slots), as model.compile then fit in Keras.
      InitWeights init = options.fit().init();
      graph.initialize(init != null ? init.weights() : graph.model().variables().initialValues(options.seed()));
    }

    Batch batch = Batch.allocate(options.batchSize());
    Batch lastBatch = null;
    Batch validation = null;
    if (options.validateSamples() > 0) {
      validation = Batch.allocate(options.validateSamples());
      data.test(validationSeed(options.seed())).fill(validation);
    }
    Status status = stopped ? Status.EARLY_STOPPED : Status.COMPLETED;
    String message = null;
    double samplesPerSecond = 0;
    int epoch = startEpoch;
    for (; epoch < options.epochs() && !stopped; epoch++) {
      PairData.BatchStream stream = data.training(epochDataSeed(options.seed(), epoch));
      progress.startEpoch(epoch + 1, options.epochs(), options.stepsPerEpoch());
      // Keras's Mean metrics: float32 totals weighted by the batch size.
      float total = 0;
      float total1 = 0;
      float total2 = 0;
      float count = 0;
      long started = System.nanoTime();
      long trainingNanos = 0;
      long samples = 0;
      for (int step = 0; step < options.stepsPerEpoch(); step++) {
        // A finite pairs file ends an epoch with a smaller batch, as Keras's fit does.
        int n = data.samplesInStep(step, options.batchSize());
        if (n != batch.size() && (lastBatch == null || lastBatch.size() != n)) {
          lastBatch = Batch.allocate(n);
        }
        Batch current = n == batch.size() ? batch : lastBatch;
        stream.fill(current);
        long t0 = System.nanoTime();
        TrainingGraph.StepLoss loss = graph.step(current, lr, new long[] {options.seed(), globalStep});
        trainingNanos += System.nanoTime() - t0;
        if (!loss.finite()) {
          status = Status.NON_FINITE_LOSS;
          message = String.format(Locale.ROOT, "loss became %s at epoch %d step %d (global step %d, lr %s); "
              + "stopped. Last good checkpoint: %s", loss.loss(), epoch + 1, step + 1, globalStep, lr,
              lastCheckpoint == null ? "none (first epoch)" : lastCheckpoint);
          progress.endEpoch(message);
          break;
        }
        globalStep++;
        if (stepObserver != null) {
          stepObserver.afterStep(epoch, step, globalStep, current, loss);
        }
        // Keras's loss trackers: Mean metrics with sample_weight = the batch's size.
        total += loss.loss() * n;
        total1 += loss.decoded1Loss() * n;
        total2 += loss.decoded2Loss() * n;
        count += n;
        samples += n;
        samplesPerSecond = samples / ((System.nanoTime() - started) / 1e9);
        progress.step(step + 1, total / count, lr, samplesPerSecond);
      }
      if (status == Status.NON_FINITE_LOSS) {
        break;
      }
      // The loop's own throughput (data drawing and feeding included) next to the steps' alone, as bss bench
      // measures them: their gap is the overhead outside the training step.
      double loopSamplesPerSecond = samples / ((System.nanoTime() - started) / 1e9);
      samplesPerSecond = samples / (trainingNanos / 1e9);
      Map<String, Double> logs = new LinkedHashMap<>();
      logs.put("loss", (double) (total / count));
      logs.put("decoded1_loss", (double) (total1 / count));
      logs.put("decoded2_loss", (double) (total2 / count));
      if (validation != null) {
        float[][] pred = graph.predict(validation.mixtureValues(), validation.size(), options.batchSize());
        double v1 = Evaluation.mse(pred[0], validation.mnistValues(), validation.size() * TrainingGraph.PIXELS);
        double v2 = Evaluation.mse(pred[1], validation.fashionValues(), validation.size() * TrainingGraph.PIXELS);
        logs.put("val_loss", v1 + v2);
        logs.put("val_decoded1_loss", v1);
        logs.put("val_decoded2_loss", v2);
      }
      logs.put("learning_rate", (double) lr);
      double current = logs.get("loss");
      // Keras calls the callbacks in the order given to fit(): early stopping, LR reduction, best weights.
      stopped = earlyStopping.onEpochEnd(epoch, current);
      float nextLr = reduceLr.onEpochEnd(current, lr);
      boolean best = keeper.onEpochEnd(epoch, current);
      history.add(logs);

      WeightSet weights = graph.model().variables().read(graph.session());
      if (best) {
        Map<String, Object> bestState = new LinkedHashMap<>();
        bestState.put("format", FORMAT);
        bestState.put("epoch", epoch + 1);
        bestState.put("loss", Double.toString(current));
        Checkpoint.write(checkpointsDir().resolve(Checkpoint.BEST), options.config(), weights, null, bestState);
      }
      StringBuilder summary = new StringBuilder(String.format(Locale.ROOT,
          "epoch %d/%d  loss %.6f  decoded1_loss %.6f  decoded2_loss %.6f", epoch + 1, options.epochs(), current,
          logs.get("decoded1_loss"), logs.get("decoded2_loss")));
      if (validation != null) {
        summary.append(String.format(Locale.ROOT, "  val_loss %.6f", logs.get("val_loss")));
      }
      summary.append(String.format(Locale.ROOT, "  lr %.3g  %.0f samples/s (loop; steps alone %.0f)  %.1f s", lr,
          loopSamplesPerSecond, samplesPerSecond, (System.nanoTime() - started) / 1e9));
      if (nextLr != lr) {
        summary.append(String.format(Locale.ROOT, "%n  ReduceLROnPlateau: learning rate %.3g -> %.3g", lr, nextLr));
      }
      if (stopped) {
        summary.append(String.format(Locale.ROOT, "%n  EarlyStopping: no improvement for %d epochs; stopping",
            cb.earlyStoppingPatience()));
      }
      lr = nextLr;

      Map<String, Object> state = new LinkedHashMap<>();
      state.put("format", FORMAT);
      state.put("epoch", epoch + 1);
      state.put("global_step", globalStep);
      state.put("learning_rate", Float.toString(lr));
      state.put("stopped", stopped);
      state.put("run_seed", options.seed());
      state.put("next_data_seed", Long.toString(epochDataSeed(options.seed(), epoch + 1)));
      state.put(ResumeCheck.STATE_KEY, settings);
      Map<String, Object> callbacks = new LinkedHashMap<>();
      callbacks.put("early_stopping", earlyStopping.state());
      callbacks.put("reduce_lr_on_plateau", reduceLr.state());
      callbacks.put("best_weights", keeper.state());
      state.put("callbacks", callbacks);
      state.put("best_checkpoint", keeper.bestEpoch() >= 0 ? Checkpoint.BEST : null);
      state.put("fit", options.fit().toMap());
      List<Map<String, String>> savedHistory = new ArrayList<>();
      for (Map<String, Double> h : history) {
        Map<String, String> row = new LinkedHashMap<>();
        h.forEach((k, v) -> row.put(k, Double.toString(v)));
        savedHistory.add(row);
      }
      state.put("history", savedHistory);
      Path dir = checkpointsDir().resolve(Checkpoint.epochDirName(epoch + 1));
      Checkpoint.write(dir, options.config(), weights, graph.optimizer().read(graph.session()), state);
      Checkpoint.prune(checkpointsDir(), KEEP_LAST);
      CheckpointScan.removeOrphans(checkpointsDir());
      lastCheckpoint = dir;
      HistoryCsv.write(options.out().resolve("history.csv"), history);
      Plots.lossPlot(options.out().resolve("loss.png"), history);
      progress.endEpoch(summary.toString());
      if (stopped) {
        status = Status.EARLY_STOPPED;
      }
    }

    for (Batch b : new Batch[] {batch, lastBatch, validation}) {
      if (b != null) {
        b.close();
      }
    }
    // The seed restores the weights of the epoch with the lowest loss.
    Path bestDir = checkpointsDir().resolve(Checkpoint.BEST);
    if (keeper.bestEpoch() >= 0 && Files.isDirectory(bestDir)) {
      graph.model().variables().assign(graph.session(), Checkpoint.readWeights(bestDir));
    }
    return new Result(status, history.size(), keeper.bestEpoch() + 1, history,
        samplesPerSecond, message);
  }

  private static Number number(Map<String, Object> state, String key) {
    Object v = state.get(key);
    if (!(v instanceof Number n)) {
      throw new IllegalArgumentException("state.json: '" + key + "' must be a number, found " + v);
    }
    return n;
  }
}
