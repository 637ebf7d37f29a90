package dev.bss.train.loop;

import dev.bss.interop.RunLayout;
import dev.bss.interop.SeparationResult;
import dev.bss.model.WeightSet;
import dev.bss.train.callbacks.BestWeightsKeeper;
import dev.bss.train.callbacks.EarlyStopping;
import dev.bss.train.callbacks.ReduceLrOnPlateau;
import dev.bss.train.data.Batch;
import dev.bss.train.eval.Evaluation;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.io.HistoryCsv;
import dev.bss.train.io.Plots;
import dev.bss.train.io.TrainingState;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
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
 *
 * <p>{@link #run()} is three parts: {@link #resumeOrInitialize()} (a checkpoint's {@link TrainingState}, or the
 * initial weights), {@link #trainEpoch} (the steps of one epoch) and {@link #endEpoch} (validation, callbacks, the
 * best weights, the checkpoint, history.csv and loss.png).
 */
public final class Trainer {

  /** Epoch checkpoints kept besides the best one. */
  public static final int KEEP_LAST = 2;

  private final TrainOptions options;
  private final PairData data;
  private final TrainingGraph graph;
  private final PrintStream out;
  private final Progress progress;
  private CheckpointScan.Loaded resumeFrom;
  private Map<String, String> settings;
  private StepObserver stepObserver;

  // Where the run stands: what an epoch checkpoint records, restored on resume and advanced every epoch.
  private final EarlyStopping earlyStopping;
  private final ReduceLrOnPlateau reduceLr;
  private final BestWeightsKeeper keeper = new BestWeightsKeeper();
  private final List<Map<String, Double>> history = new ArrayList<>();
  private float learningRate;
  private long globalStep;
  private boolean stopped;
  private Path lastCheckpoint;
  // The best epoch's weights when this process trained it; null when they are only in checkpoints/best (resumed).
  private WeightSet bestWeights;
  private boolean ran;

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

  /**
   * One epoch's steps.
   *
   * @param logs Keras's epoch logs so far (loss, decoded1_loss, decoded2_loss), or null when a step failed
   * @param failure the message of a non-finite loss, or null
   * @param loopSamplesPerSecond the loop's throughput (data drawing and feeding included)
   * @param stepSamplesPerSecond the steps' throughput alone
   * @param started when the epoch started ({@link System#nanoTime()})
   */
  private record Epoch(Map<String, Double> logs, String failure, double loopSamplesPerSecond,
      double stepSamplesPerSecond, long started) {}

  public Trainer(TrainOptions options, PairData data, TrainingGraph graph, PrintStream out, Progress progress) {
    this.options = options;
    this.data = data;
    this.graph = graph;
    this.out = out;
    this.progress = progress;
    CallbackSettings cb = options.fit().callbacks();
    earlyStopping = new EarlyStopping(cb.earlyStoppingPatience(), 0);
    reduceLr = new ReduceLrOnPlateau(cb.reduceLrFactor(), cb.reduceLrPatience(), cb.minLr(), cb.reduceLrMinDelta(),
        0);
    learningRate = (float) options.learningRate();
  }

  /** Calls {@code observer} after every step of {@link #run()}; returns this. */
  public Trainer observeSteps(StepObserver observer) {
    this.stepObserver = observer;
    return this;
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
   * history.csv and loss.png each epoch; at the end the best weights are in the session. A trainer runs once.
   */
  public Result run() {
    if (ran) {
      throw new IllegalStateException("a Trainer runs once; make a new one");
    }
    ran = true;
    int firstEpoch = resumeOrInitialize();
    Status status = Status.COMPLETED;
    String message = null;
    double samplesPerSecond = 0;
    try (Batches batches = new Batches(); Batch validation = validationPairs()) {
      for (int epoch = firstEpoch; epoch < options.epochs() && !stopped; epoch++) {
        Epoch done = trainEpoch(epoch, batches);
        if (done.failure() != null) {
          status = Status.NON_FINITE_LOSS;
          message = done.failure();
          samplesPerSecond = done.loopSamplesPerSecond() > 0 ? done.loopSamplesPerSecond() : samplesPerSecond;
          break;
        }
        samplesPerSecond = done.stepSamplesPerSecond();
        endEpoch(epoch, done, validation);
      }
    }
    if (status == Status.COMPLETED && stopped) {
      status = Status.EARLY_STOPPED;
    }
    restoreBestWeights();
    return new Result(status, history.size(), keeper.bestEpoch() + 1, List.copyOf(history), samplesPerSecond,
        message);
  }

  /**
   * A resumed run: loads its checkpoint (weights, Adam, the {@link TrainingState}); a new run: the initial weights
   * and a fresh Adam. Returns the first epoch to train (0-based).
   */
  private int resumeOrInitialize() {
    if (settings == null) {
      settings = ResumeCheck.settings(ResumeCheck.Context.of(options, data));
    }
    if (!options.resume()) {
      // --init: the given weights, Adam fresh (iterations 0, zero slots), as model.compile then fit in Keras.
      InitWeights init = options.fit().init();
      graph.initialize(init != null ? init.weights() : graph.model().variables().initialValues(options.seed()));
      return 0;
    }
    CheckpointScan.Loaded checkpoint = resumeFrom;
    if (checkpoint == null) {
      checkpoint = CheckpointScan.newestIntact(checkpointsDir(), notice -> out.println("notice: " + notice));
      ResumeCheck.check(ResumeCheck.recorded(checkpoint.state(), checkpoint.config()), settings, checkpoint.epoch(),
          checkpoint.dir()).forEach(notice -> out.println("notice: " + notice));
    }
    TrainingState state = checkpoint.state();
    graph.model().variables().assign(graph.session(), checkpoint.weights());
    graph.optimizer().assign(graph.session(), checkpoint.optimizer());
    globalStep = state.globalStep();
    learningRate = state.learningRate();
    stopped = state.stopped();
    earlyStopping.restore(state.callbacks().earlyStopping());
    reduceLr.restore(state.callbacks().reduceLrOnPlateau());
    keeper.restore(state.callbacks().bestWeights());
    history.addAll(state.history());
    lastCheckpoint = checkpoint.dir();
    long iterations = graph.optimizer().iterations(graph.session());
    if (iterations != globalStep) {
      throw new IllegalArgumentException(lastCheckpoint + ": optimizer iterations " + iterations
          + " do not match global_step " + globalStep);
    }
    out.printf(Locale.ROOT, "resuming from %s (epoch %d done, step %d, lr %s)%n", lastCheckpoint, state.epoch(),
        globalStep, learningRate);
    return state.epoch();
  }

  /** Runs the steps of epoch {@code epoch} (0-based) on that epoch's pairs. */
  private Epoch trainEpoch(int epoch, Batches batches) {
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
      Batch batch = batches.of(n);
      stream.fill(batch);
      long t0 = System.nanoTime();
      TrainingGraph.StepLoss loss = graph.step(batch, learningRate, new long[] {options.seed(), globalStep});
      trainingNanos += System.nanoTime() - t0;
      if (!loss.finite()) {
        String failure = String.format(Locale.ROOT, "loss became %s at epoch %d step %d (global step %d, lr %s); "
            + "stopped. Last good checkpoint: %s", loss.loss(), epoch + 1, step + 1, globalStep, learningRate,
            lastCheckpoint == null ? "none (first epoch)" : lastCheckpoint);
        progress.endEpoch(failure);
        return new Epoch(null, failure, perSecond(samples, System.nanoTime() - started), 0, started);
      }
      globalStep++;
      if (stepObserver != null) {
        stepObserver.afterStep(epoch, step, globalStep, batch, loss);
      }
      // Keras's loss trackers: Mean metrics with sample_weight = the batch's size.
      total += loss.loss() * n;
      total1 += loss.decoded1Loss() * n;
      total2 += loss.decoded2Loss() * n;
      count += n;
      samples += n;
      progress.step(step + 1, total / count, learningRate, perSecond(samples, System.nanoTime() - started));
    }
    Map<String, Double> logs = new LinkedHashMap<>();
    logs.put("loss", (double) (total / count));
    logs.put("decoded1_loss", (double) (total1 / count));
    logs.put("decoded2_loss", (double) (total2 / count));
    // The loop's own throughput next to the steps' alone, as bss bench measures them: their gap is the overhead
    // outside the training step.
    return new Epoch(logs, null, perSecond(samples, System.nanoTime() - started), perSecond(samples, trainingNanos),
        started);
  }

  /**
   * The end of epoch {@code epoch} (0-based), in the seed's order: validation, the callbacks, the best weights, the
   * epoch checkpoint, history.csv and loss.png.
   */
  private void endEpoch(int epoch, Epoch done, Batch validation) {
    Map<String, Double> logs = done.logs();
    if (validation != null) {
      SeparationResult pred = graph.separateAll(validation.mixtureValues(), options.batchSize());
      double v1 = Evaluation.mse(pred.decoded1(), validation.mnistValues(), validation.size() * TrainingGraph.PIXELS);
      double v2 = Evaluation.mse(pred.decoded2(), validation.fashionValues(), validation.size() * TrainingGraph.PIXELS);
      logs.put("val_loss", v1 + v2);
      logs.put("val_decoded1_loss", v1);
      logs.put("val_decoded2_loss", v2);
    }
    logs.put("learning_rate", (double) learningRate);
    double current = logs.get("loss");
    // Keras calls the callbacks in the order given to fit(): early stopping, LR reduction, best weights.
    stopped = earlyStopping.onEpochEnd(epoch, current);
    float nextLr = reduceLr.onEpochEnd(current, learningRate);
    boolean best = keeper.onEpochEnd(epoch, current);
    history.add(logs);

    WeightSet weights = graph.model().variables().read(graph.session());
    if (best) {
      bestWeights = weights;
      Checkpoint.writeWeights(checkpointsDir().resolve(Checkpoint.BEST), options.config(), weights, epoch + 1,
          Map.of("loss", Double.toString(current)));
    }
    String summary = summary(epoch, logs, nextLr, done);
    learningRate = nextLr;
    writeCheckpoint(epoch + 1, weights);
    HistoryCsv.write(options.out().resolve("history.csv"), history);
    Plots.lossPlot(options.out().resolve("loss.png"), history);
    progress.endEpoch(summary);
  }

  /** The epoch's line (and the callbacks' notes) for the progress output. */
  private String summary(int epoch, Map<String, Double> logs, float nextLr, Epoch done) {
    StringBuilder summary = new StringBuilder(String.format(Locale.ROOT,
        "epoch %d/%d  loss %.6f  decoded1_loss %.6f  decoded2_loss %.6f", epoch + 1, options.epochs(),
        logs.get("loss"), logs.get("decoded1_loss"), logs.get("decoded2_loss")));
    if (logs.containsKey("val_loss")) {
      summary.append(String.format(Locale.ROOT, "  val_loss %.6f", logs.get("val_loss")));
    }
    summary.append(String.format(Locale.ROOT, "  lr %.3g  %.0f samples/s (loop; steps alone %.0f)  %.1f s",
        learningRate, done.loopSamplesPerSecond(), done.stepSamplesPerSecond(),
        (System.nanoTime() - done.started()) / 1e9));
    if (nextLr != learningRate) {
      summary.append(String.format(Locale.ROOT, "%n  ReduceLROnPlateau: learning rate %.3g -> %.3g", learningRate,
          nextLr));
    }
    if (stopped) {
      summary.append(String.format(Locale.ROOT, "%n  EarlyStopping: no improvement for %d epochs; stopping",
          options.fit().callbacks().earlyStoppingPatience()));
    }
    return summary.toString();
  }

  /** Writes the checkpoint after {@code epochsDone} epochs and keeps the newest {@link #KEEP_LAST}. */
  private void writeCheckpoint(int epochsDone, WeightSet weights) {
    TrainingState state = new TrainingState(epochsDone, globalStep, learningRate, stopped, options.seed(),
        epochDataSeed(options.seed(), epochsDone), settings,
        new TrainingState.Callbacks(earlyStopping.state(), reduceLr.state(), keeper.state()), options.fit().toMap(),
        history);
    Path dir = checkpointsDir().resolve(Checkpoint.epochDirName(epochsDone));
    Checkpoint.write(dir, options.config(), weights, graph.optimizer().read(graph.session()), state);
    Checkpoint.prune(checkpointsDir(), KEEP_LAST);
    CheckpointScan.removeOrphans(checkpointsDir());
    lastCheckpoint = dir;
  }

  /**
   * The seed restores the weights of the epoch with the lowest loss: those kept in memory, or, when that epoch came
   * before a resume, those of checkpoints/best.
   */
  private void restoreBestWeights() {
    WeightSet best = bestWeights;
    Path bestDir = checkpointsDir().resolve(Checkpoint.BEST);
    if (best == null && keeper.bestEpoch() >= 0 && Files.isDirectory(bestDir)) {
      best = Checkpoint.readWeights(bestDir);
    }
    if (best != null) {
      graph.model().variables().assign(graph.session(), best);
    }
  }

  /** The validation pairs, drawn once for the run, or null without {@code --validate}. */
  private Batch validationPairs() {
    if (options.validateSamples() <= 0) {
      return null;
    }
    Batch validation = Batch.allocate(options.validateSamples());
    data.test(validationSeed(options.seed())).fill(validation);
    return validation;
  }

  private static double perSecond(long samples, long nanos) {
    return samples / (nanos / 1e9);
  }

  /** The batches of a run, one per size a step asks for: the batch size, and a pairs file's smaller last batch. */
  private static final class Batches implements AutoCloseable {
    private final Map<Integer, Batch> bySize = new HashMap<>();

    Batch of(int size) {
      return bySize.computeIfAbsent(size, Batch::allocate);
    }

    @Override
    public void close() {
      bySize.values().forEach(Batch::close);
    }
  }
}
