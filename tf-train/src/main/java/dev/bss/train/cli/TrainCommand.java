package dev.bss.train.cli;

import dev.bss.model.ModelConfig;
import dev.bss.train.data.DataSource;
import dev.bss.train.data.Datasets;
import dev.bss.train.loop.DatasetsPairData;
import dev.bss.train.loop.Devices;
import dev.bss.train.loop.Precision;
import dev.bss.train.loop.Progress;
import dev.bss.train.loop.TrainOptions;
import dev.bss.train.loop.Trainer;
import dev.bss.train.loop.TrainingRun;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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

  @Option(names = "--preset", description = "quick (default) or seed", defaultValue = "quick")
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
  @Option(names = "--patience", description = "EarlyStopping / ReduceLROnPlateau patience (default 5)")
  Integer patience;
  @Option(names = "--seed", description = "run seed: weights, data draws, dropout (default 1)", defaultValue = "1")
  long seed;

  @Option(names = "--device", description = "cpu, gpu or auto (GPU when TensorFlow sees one)", defaultValue = "auto")
  String device;

  @Option(names = "--threads", description = "intra-op threads (default: available processors)")
  Integer threads;

  @Option(names = "--precision", paramLabel = "float32|bf16", defaultValue = "float32",
      description = "float32 (default) or bf16: Keras's mixed_bfloat16 (bf16 compute, float32 weights and loss); "
          + "needs a CPU with AVX512_BF16 or AMX")
  String precision;

  @Option(names = "--out", description = "output folder (default: runs/<timestamp>)") Path out;
  @Option(names = "--resume", description = "continue the run in --out from its last complete checkpoint")
  boolean resume;

  @Option(names = "--validate", arity = "0..1", fallbackValue = "-1", paramLabel = "N",
      description = "evaluate N test pairs after each epoch (val_* metrics; N defaults to the preset's)")
  Integer validate;

  @Option(names = "--samples", description = "columns of samples.png (default 8)", defaultValue = "8")
  int samples;

  @Option(names = "--eval-draws", description = "evaluation draws at the end (default: the preset's; 0 = none)")
  Integer evalDraws;

  @Option(names = "--eval-samples", description = "test pairs per evaluation draw (default: the preset's)")
  Integer evalSamples;

  @Option(names = "--verbose", description = "stack traces on errors") boolean verbose;

  @Override
  public Integer call() {
    Preset p = switch (preset.toLowerCase(Locale.ROOT)) {
      case "quick" -> QUICK;
      case "seed" -> SEED;
      default -> throw new Cli.UserException("--preset: expected quick or seed, found '" + preset + "'");
    };
    ModelConfig model = ConfigOption.resolve(config == null ? p.config() : config);
    if (resume && out == null) {
      throw new Cli.UserException("--resume needs --out (the folder of the run to continue)");
    }
    Path outDir = out != null ? out
        : Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    int validateSamples = validate == null ? 0 : validate < 0 ? p.validateSamples() : validate;
    TrainOptions options = new TrainOptions(model, p.name(),
        epochs != null ? epochs : p.epochs(),
        stepsPerEpoch != null ? stepsPerEpoch : p.stepsPerEpoch(),
        batchSize != null ? batchSize : p.batchSize(),
        lr != null ? lr : 1e-3,
        seed,
        patience != null ? patience : p.patience(),
        outDir, resume, validateSamples, samples,
        evalDraws != null ? evalDraws : p.evalDraws(),
        evalSamples != null ? evalSamples : p.evalSamples());
    int threadCount = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    if (threadCount <= 0) {
      throw new Cli.UserException("--threads: expected a positive integer, found " + threadCount);
    }
    Precision mode = Precision.parse(precision);
    mode.checkSupported();
    Devices.Choice choice = mode.apply(Devices.choose(device, threadCount));
    Datasets datasets = loadData(data, p.fullData());
    List<String> commandLine = new ArrayList<>(List.of("bss", "train"));
    commandLine.addAll(spec.commandLine().getParseResult().originalArgs());
    TrainingRun.Outcome outcome = TrainingRun.execute(options, new DatasetsPairData(datasets), choice, threadCount,
        commandLine, System.out, Progress.stdoutIsTerminal());
    return outcome.training().status() == Trainer.Status.NON_FINITE_LOSS ? 1 : 0;
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
