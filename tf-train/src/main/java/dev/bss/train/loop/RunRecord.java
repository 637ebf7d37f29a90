package dev.bss.train.loop;

import dev.bss.interop.AtomicFiles;
import dev.bss.model.ModelConfig;
import dev.bss.train.io.BuildProperties;
import dev.bss.train.io.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * What run.json says about a training run: how it was started (command line, model, training settings, initial
 * weights, data and the data's provenance, versions, device) and, once it has ended, how. {@link TrainingRun} writes
 * it when the run starts and again when it ends.
 *
 * @param commandLine the arguments as typed
 * @param preset the preset's name
 * @param config the model config
 * @param training what the run trains with
 * @param init {@code --init}'s path, format and SHA-256, or null (seeded initialisers)
 * @param pairs {@code --pairs}' path, SHA-256, N and order, or null (generated mixtures)
 * @param seed the run seed
 * @param versions what ran it
 * @param device the device asked for and used
 * @param data one line naming the data
 * @param dataProvenance what identifies the data's content ({@link PairData#provenance()})
 * @param started when the run started
 * @param resumed whether it continues the run of an earlier run.json in the same folder
 * @param ending how it ended, or null while it runs
 */
public record RunRecord(List<String> commandLine, String preset, ModelConfig config, Training training,
    Map<String, Object> init, Map<String, Object> pairs, long seed, Versions versions, Device device, String data,
    Map<String, Object> dataProvenance, Instant started, boolean resumed, Ending ending) {

  /** The file's name in the run folder. */
  public static final String FILE = "run.json";
  /** The format the file names. */
  public static final String FORMAT = "bss-run-1";

  /**
   * What the run trains with.
   *
   * @param callbacks the callbacks as Keras would be called
   * @param settings the fit settings ({@link FitSettings#toMap()})
   * @param validationSamples test pairs scored after each epoch (0: none)
   */
  public record Training(int epochs, int stepsPerEpoch, int batchSize, double learningRate, List<String> callbacks,
      Map<String, Object> settings, int validationSamples) {

    static final String OPTIMIZER = "Adam(beta_1=0.9, beta_2=0.999, epsilon=1e-7), Keras 3 semantics";
    static final String LOSS = "mse(decoded1) + mse(decoded2)";
  }

  /** The versions of bss, TensorFlow Java, the TensorFlow runtime, Java and the OS. */
  public record Versions(String bss, String tensorflowJava, String tensorflowRuntime, String java, String os) {

    /** The versions of this process. */
    public static Versions current() {
      Properties build = BuildProperties.read();
      return new Versions(build.getProperty("bss.version", "unknown"),
          build.getProperty("tensorflow.java.version", "unknown"), org.tensorflow.TensorFlow.version(),
          System.getProperty("java.version"), System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    }
  }

  /**
   * The device.
   *
   * @param requested {@code --device} as given (cpu, gpu, auto)
   * @param used cpu or gpu
   * @param precision float32 or bf16
   * @param visible the devices TensorFlow sees
   * @param notice why the device differs from the one asked for, or null
   */
  public record Device(String requested, String used, String precision, List<String> visible, int intraOpThreads,
      int interOpThreads, String notice) {}

  /**
   * How the run ended.
   *
   * @param message why it stopped early (a non-finite loss), or null
   * @param savedModel the exported SavedModel, or null (none, or the export failed)
   * @param evaluation the final evaluation, or null (none)
   * @param wallSeconds the run's wall time, or null when it stopped early
   * @param finalModel the checkpoint of the final (best) weights, or null when it stopped early
   */
  public record Ending(Trainer.Status status, int epochsDone, int bestEpoch, double samplesPerSecond, String message,
      Path savedModel, Map<String, Object> evaluation, Instant finished, Double wallSeconds, Path finalModel) {}

  /** The record of a run starting now with {@code options} on {@code data}. */
  public static RunRecord start(TrainOptions options, PairData data, Devices.Choice device, int threads,
      List<String> commandLine) {
    Training training = new Training(options.epochs(), options.stepsPerEpoch(), options.batchSize(),
        options.learningRate(), options.fit().callbacks().describe(), options.fit().toMap(),
        options.validateSamples());
    Device used = new Device(device.requested(), device.gpu() ? "gpu" : "cpu",
        Precision.of(device.config()).label(), device.visible(), threads, 1, device.notice());
    FitSettings fit = options.fit();
    return new RunRecord(List.copyOf(commandLine), options.preset(), options.config(), training,
        fit.init() == null ? null : fit.init().toMap(), fit.pairs() == null ? null : fit.pairs().toMap(),
        options.seed(), Versions.current(), used, data.description(), data.provenance(), Instant.now(),
        options.resume() && Files.isRegularFile(options.out().resolve(FILE)), null);
  }

  /** This record with its ending. */
  public RunRecord ended(Ending how) {
    return new RunRecord(commandLine, preset, config, training, init, pairs, seed, versions, device, data,
        dataProvenance, started, resumed, how);
  }

  /** Writes run.json into {@code outDir} (atomically, replacing the previous one). */
  public void write(Path outDir) {
    AtomicFiles.writeString(outDir.resolve(FILE), Checkpoint.toJson(toMap()) + "\n");
  }

  /** run.json's content; null values are left out of the file. */
  public Map<String, Object> toMap() {
    Map<String, Object> run = Checkpoint.orderedMap("format", FORMAT, "command_line", commandLine, "preset", preset,
        "model_config", config.toMap(), "training", Checkpoint.orderedMap("epochs", training.epochs(),
            "steps_per_epoch", training.stepsPerEpoch(), "batch_size", training.batchSize(), "learning_rate",
            training.learningRate(), "optimizer", Training.OPTIMIZER, "loss", Training.LOSS, "callbacks",
            training.callbacks(), "settings", training.settings(), "validation_samples",
            training.validationSamples()),
        "init", init, "pairs", pairs, "seed", seed,
        "versions", Checkpoint.orderedMap("bss", versions.bss(), "tensorflow_java", versions.tensorflowJava(),
            "tensorflow_runtime", versions.tensorflowRuntime(), "java", versions.java(), "os", versions.os()),
        "device", Checkpoint.orderedMap("requested", device.requested(), "used", device.used(), "precision",
            device.precision(), "visible", device.visible(), "intra_op_threads", device.intraOpThreads(),
            "inter_op_threads", device.interOpThreads(), "notice", device.notice()),
        "data", data, "data_provenance", dataProvenance, "started", started.toString(),
        "resumed", resumed ? true : null);
    if (ending != null) {
      run.putAll(Checkpoint.orderedMap("status", ending.status().name().toLowerCase(Locale.ROOT), "epochs_done",
          ending.epochsDone(), "best_epoch", ending.bestEpoch(), "samples_per_second", ending.samplesPerSecond(),
          "message", ending.message(), "saved_model", ending.savedModel() == null ? null
              : ending.savedModel().toString(), "evaluation", ending.evaluation(), "finished",
          ending.finished().toString(), "wall_seconds", ending.wallSeconds(), "final_model",
          ending.finalModel() == null ? null : ending.finalModel().toString()));
    }
    return run;
  }
}
