package dev.bss.train.cli;

import dev.bss.interop.RunLayout;
import dev.bss.model.ModelConfig;
import dev.bss.train.data.DataSource;
import dev.bss.train.data.Datasets;
import dev.bss.train.loop.CallbackSettings;
import dev.bss.train.loop.DatasetsPairData;
import dev.bss.train.loop.FitSettings;
import dev.bss.train.loop.InitWeights;
import dev.bss.train.loop.PairData;
import dev.bss.train.loop.PairsDataset;
import dev.bss.train.loop.Devices;
import dev.bss.train.loop.Precision;
import dev.bss.train.loop.Progress;
import dev.bss.train.loop.ResumeCheck;
import dev.bss.train.loop.TrainOptions;
import dev.bss.train.loop.Trainer;
import dev.bss.train.loop.TrainingRun;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bss train}: trains the network with the seed's protocol (Keras-exact Adam, callbacks, checkpoints). */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Trains the separation network with the reference's protocol: Keras-exact Adam, loss mse(decoded1) + "
          + "mse(decoded2), EarlyStopping + ReduceLROnPlateau on the training loss, best weights restored at the end.",
      "Writes run.json, history.csv, loss.png, samples.png, final/, saved_model/ and checkpoints/ to --out, then "
          + "evaluates.",
      "Presets: quick (default: 4 epochs x 120 steps x batch 32, a few minutes on 2 CPU cores, embedded data), "
          + "seed (the notebook's run: batch 256, 1000 steps/epoch, up to 80 epochs, full data, downloaded to "
          + "~/.keras/datasets if missing)."})
public final class TrainCommand implements Callable<Integer> {

  /** Values of a preset; flags override each. */
  record Preset(String name, String config, int epochs, int stepsPerEpoch, int batchSize, int patience,
      boolean fullData, int validateSamples, int evalDraws, int evalSamples) {}

  static final Preset QUICK = new Preset("quick", "seed", 4, 120, 32, 5, false, 500, 10, 500);
  static final Preset SEED = new Preset("seed", "seed", 80, 1000, 256, 5, true, 5000, 10, 5000);

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--preset", description = "quick (default) or seed")
  String preset;

  @Option(names = "--config", paramLabel = "seed|tiny|FILE", description = ConfigOption.DESCRIPTION)
  String config;

  @Option(names = "--data", description = "data folder (IDX layout of ../shared/data), or 'embedded' (default: "
      + "$BSS_DATA, then ~/.keras/datasets; seed downloads what is missing there, quick falls back to the embedded subset)")
  Path data;

  @Option(names = "--epochs", description = "maximum epochs") Integer epochs;
  @Option(names = "--steps-per-epoch", description = "batches per epoch") Integer stepsPerEpoch;
  @Option(names = "--batch-size", description = "pairs per batch") Integer batchSize;
  @Option(names = "--lr", description = "initial learning rate (default 1e-3, Keras's)") Double lr;
  @Option(names = "--patience", description = "shorthand for --early-stopping-patience and --reduce-lr-patience "
      + "(default 5)")
  Integer patience;
  @Option(names = "--seed", description = "run seed: weights, data draws, dropout (default 1)")
  Long seed;

  @Option(names = "--early-stopping-patience", description = "EarlyStopping patience (default: --patience, 5)")
  Integer earlyStoppingPatience;
  @Option(names = "--reduce-lr-patience", description = "ReduceLROnPlateau patience (default: --patience, 5)")
  Integer reduceLrPatience;
  @Option(names = "--reduce-lr-factor", description = "ReduceLROnPlateau factor (default 0.5)")
  Double reduceLrFactor;
  @Option(names = "--reduce-lr-min-delta", description = "ReduceLROnPlateau min_delta (default 1e-4)")
  Double reduceLrMinDelta;
  @Option(names = "--min-lr", description = "ReduceLROnPlateau min_lr (default 1e-6)") Double minLr;
  @Option(names = "--dropout", paramLabel = "RATE",
      description = "override the config's dropout rate (0 disables dropout)") Double dropout;

  @Option(names = "--init", paramLabel = "PATH", description = "start from the weights of any model bss reads "
      + "(.keras, .weights.h5 with --pos-embedding, .h5, SavedModel, checkpoint or run folder, .npz by Keras path); "
      + "config from the file unless --config; the optimizer starts fresh")
  Path init;
  @Option(names = "--pos-embedding", paramLabel = "FILE.npy",
      description = "position embedding for an --init .weights.h5 written by Keras (Keras does not store it)")
  Path posEmbedding;
  @Option(names = "--pairs", paramLabel = "FILE.npz", description = "train on these pairs instead of generated "
      + "mixtures: inputs, decoded1, decoded2 as float32 [N, 32, 32, 1] (uint8 0-255 scaled); one pass per epoch, "
      + "steps per epoch derived")
  Path pairs;
  @Option(names = "--shuffle", negatable = true,
      description = "with --pairs: shuffle the pairs each epoch (seeded; default, as Keras), or --no-shuffle: file order")
  Boolean shuffle;

  @Option(names = "--device", description = "cpu, gpu or auto (default; GPU when TensorFlow sees one)")
  String device;

  @Option(names = "--threads", description = "intra-op threads (default: available processors)")
  Integer threads;

  @Option(names = "--precision", paramLabel = "float32|bf16",
      description = "float32 (default) or bf16: Keras's mixed_bfloat16 (bf16 compute, float32 weights and loss); "
          + "needs a CPU with AVX512_BF16 or AMX")
  String precision;

  @Option(names = "--out", description = "output folder (default: runs/<timestamp>)") Path out;
  @Option(names = "--resume", description = "continue the run in --out from its last intact checkpoint (options "
      + "left out take the checkpoint's values; those that shape the weights may not change)")
  boolean resume;

  @Option(names = "--validate", arity = "0..1", fallbackValue = PRESET_VALUE, paramLabel = "N",
      description = "evaluate N test pairs after each epoch (val_* metrics; N defaults to the preset's; 0 = off)")
  String validate;

  @Option(names = "--samples", description = "columns of samples.png (default 8; 0 = none)")
  Integer samples;

  @Option(names = "--eval-draws", description = "evaluation draws at the end (default: the preset's; 0 = none)")
  Integer evalDraws;

  @Option(names = "--eval-samples", description = "test pairs per evaluation draw (default: the preset's)")
  Integer evalSamples;

  @Mixin VerboseOption verbose;

  /** The fallback value of a bare {@code --validate}: the preset's count. */
  static final String PRESET_VALUE = "preset";

  @Override
  public Integer call() {
    if (resume && out == null) {
      throw new Cli.UserException("--resume needs --out (the folder of the run to continue)");
    }
    Path outDir = out != null ? out
        : Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    // A resumed run takes the checkpoint's value of every option not given; ResumeCheck refuses changed ones.
    ResumeCheck.Defaults recorded = resume ? ResumeCheck.defaults(RunLayout.checkpoints(outDir))
        : ResumeCheck.Defaults.NONE;
    Preset p = presetNamed(preset != null ? preset : recorded.string("preset", QUICK.name()), preset != null);
    Precision mode = Precision.parse(precision != null ? precision : recorded.string("precision", null));
    mode.checkSupported();
    InitWeights initWeights = null;
    ModelConfig model;
    if (init != null) {
      initWeights = InitWeights.load(init, config == null ? null : ConfigOption.resolve(config), posEmbedding);
      model = initWeights.config();
    } else {
      if (posEmbedding != null) {
        throw new Cli.UserException("--pos-embedding: only used with --init (a Keras-written .weights.h5)");
      }
      model = config != null ? ConfigOption.resolve(config)
          : recorded.config() != null ? recorded.config() : ConfigOption.resolve(p.config());
    }
    if (dropout != null) {
      if (!(dropout >= 0 && dropout < 1)) {
        throw new Cli.UserException("--dropout: expected a rate in [0, 1), found " + dropout);
      }
      model = model.withDropout(dropout);
      initWeights = initWeights == null ? null : initWeights.withConfig(model);
    }
    if (evalSamples != null) {
      TrainOptions.range("--eval-samples", evalSamples, 1, TrainOptions.MAX_PAIRS);
    }
    int batch = batchSize != null ? batchSize : recorded.integer("batch_size", p.batchSize());
    TrainOptions.range("--batch-size", batch, 1, TrainOptions.MAX_BATCH_SIZE);
    String dataOption = data != null ? data.toString() : recorded.string("data_option", null);
    Path pairsFile = pairs != null ? pairs : Optional.ofNullable(recorded.string("pairs_file", null))
        .map(Path::of).orElse(null);
    boolean shuffled = shuffle != null ? shuffle : Boolean.parseBoolean(recorded.string("shuffle", "true"));
    PairData trainingData;
    int steps;
    if (pairsFile != null) {
      if (stepsPerEpoch != null) {
        throw new Cli.UserException("--steps-per-epoch: not used with --pairs (each epoch is one pass over the file,"
            + " ceil(N / --batch-size) steps)");
      }
      // Test pairs (validation, samples.png, evaluation) still come from the test sets, loaded only if needed.
      PairsDataset pairsData = PairsDataset.load(pairsFile, batch, shuffled, () -> new DatasetsPairData(
          loadData(dataOption == null ? null : Path.of(dataOption), false)));
      trainingData = pairsData;
      steps = pairsData.stepsPerEpoch();
    } else {
      if (shuffle != null && !shuffle) {
        throw new Cli.UserException("--no-shuffle: only used with --pairs (generated mixtures are drawn at random)");
      }
      steps = stepsPerEpoch != null ? stepsPerEpoch : recorded.integer("steps_per_epoch", p.stepsPerEpoch());
      trainingData = new DatasetsPairData(loadData(dataOption == null ? null : Path.of(dataOption), p.fullData()));
    }
    int basePatience = patience != null ? patience : recorded.integer("patience", p.patience());
    TrainOptions.range("--patience", basePatience, 0, TrainOptions.MAX_EPOCHS);
    CallbackSettings callbacks = new CallbackSettings(
        earlyStoppingPatience != null ? earlyStoppingPatience
            : recorded.integer("early_stopping_patience", basePatience),
        reduceLrPatience != null ? reduceLrPatience : recorded.integer("reduce_lr_patience", basePatience),
        reduceLrFactor != null ? reduceLrFactor : recorded.number("reduce_lr_factor", 0.5),
        reduceLrMinDelta != null ? reduceLrMinDelta : recorded.number("reduce_lr_min_delta", 1e-4),
        minLr != null ? minLr : recorded.number("min_lr", 1e-6));
    FitSettings fit = new FitSettings(callbacks, initWeights,
        trainingData instanceof PairsDataset set ? set : null, dropout);
    TrainOptions options = new TrainOptions(model, p.name(),
        epochs != null ? epochs : recorded.integer("epochs", p.epochs()),
        steps,
        batch,
        lr != null ? lr : recorded.number("learning_rate", 1e-3),
        seed != null ? seed : Long.parseLong(recorded.string("seed", "1")),
        basePatience,
        outDir, resume, validateSamples(p, recorded),
        samples != null ? samples : recorded.integer("samples", 8),
        evalDraws != null ? evalDraws : recorded.integer("eval_draws", p.evalDraws()),
        evalSamples != null ? evalSamples : recorded.integer("eval_samples", p.evalSamples()),
        fit);
    int threadCount = Devices.threadCount(threads != null ? threads : recorded.optionalInteger("threads"));
    Devices.Choice choice = mode.apply(Devices.choose(device != null ? device : recorded.string("device", "auto"),
        threadCount));
    List<String> commandLine = new ArrayList<>(List.of("bss"));
    commandLine.addAll(spec.commandLine().getParseResult().originalArgs());
    Map<String, String> settings = ResumeCheck.settings(new ResumeCheck.Context(options, trainingData, dataOption,
        choice.requested(), threadCount, mode.label()));
    TrainingRun.Outcome outcome;
    try (PrintStream out = WriterStream.of(spec.commandLine().getOut())) {
      outcome = TrainingRun.execute(options, trainingData, choice, threadCount, settings, commandLine, out,
          Progress.stdoutIsTerminal());
    }
    return outcome.training().status() == Trainer.Status.NON_FINITE_LOSS ? 1 : 0;
  }

  /** The preset of that name; a recorded name that is not a preset (a run made in a test) means quick. */
  private static Preset presetNamed(String name, boolean given) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "quick" -> QUICK;
      case "seed" -> SEED;
      default -> {
        if (!given) {
          yield QUICK;
        }
        throw new Cli.UserException("--preset: expected quick or seed, found '" + name + "'");
      }
    };
  }

  /** --validate: absent = off (or the checkpoint's), bare = the preset's count, else a count (0 = off). */
  private int validateSamples(Preset p, ResumeCheck.Defaults recorded) {
    if (validate == null) {
      return recorded.integer("validate", 0);
    }
    if (validate.equals(PRESET_VALUE)) {
      return p.validateSamples();
    }
    try {
      return Integer.parseInt(validate.strip());
    } catch (NumberFormatException e) {
      throw new Cli.UserException("--validate: expected a count of test pairs (0 to " + TrainOptions.MAX_PAIRS
          + "), found '" + validate + "'");
    }
  }

  /**
   * Finds the data in the documented order: --data, BSS_DATA, the Keras cache, a download (seed preset only: it
   * needs the full sets), then the embedded subset.
   */
  static Datasets loadData(Path data, boolean fullData) {
    return DataSource.resolve(Optional.ofNullable(data), System.getenv(),
        DataSource.defaultKerasHome(System.getenv()), fullData);
  }
}
