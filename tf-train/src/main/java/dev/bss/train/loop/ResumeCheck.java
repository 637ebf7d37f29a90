package dev.bss.train.loop;

import dev.bss.model.ModelConfig;
import dev.bss.train.data.ImageSet;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.io.TrainingState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The settings of a training run that a {@code --resume} must keep so that the resumed run ends with the weights of
 * an uninterrupted one, as a table: each {@link Row} names a setting, its option and its {@link Rule}.
 *
 * <p>Every epoch checkpoint records {@link #settings(Context)} in its state.json ({@link TrainingState#settings()}). On
 * resume the command line takes the checkpoint's values for the options it does not give
 * ({@link #defaults(Path)}), and {@link #check} compares the run's settings with the checkpoint's before any graph
 * is built. To add a setting: add a row to {@link #ROWS} (its value from {@link TrainOptions}) and, in
 * {@code TrainCommand}, default the option to {@code defaults.integer(key)} (or {@code number}/{@code string}).
 */
public final class ResumeCheck {


  /** What a resumed run may do with a setting. */
  public enum Rule {
    /** Must equal the checkpoint's value: it shapes the weights (seed, batch, data, schedule...). */
    SAME,
    /** May grow or shrink, but not below the epochs the checkpoint has done. */
    NOT_BELOW_DONE,
    /** May change (the run stays valid but may differ in the last bits); a change is noted. */
    NOTED,
    /** Free: only the default of a resumed run (outputs after training). */
    FREE
  }

  /**
   * Everything a run's settings derive from.
   *
   * @param options the run's options
   * @param data its pairs (fingerprinted: the images of each set, not where they were found)
   * @param dataOption the {@code --data} argument, or null
   * @param device the {@code --device} argument, or null
   * @param threads the intra-op thread count, or null
   * @param precision the {@link Precision#label()} the run computes in, or null
   */
  public record Context(TrainOptions options, PairData data, String dataOption, String device, Integer threads,
      String precision) {

    /** The settings of a run started without the command line (tests, benchmarks). */
    public static Context of(TrainOptions options, PairData data) {
      return new Context(options, data, null, null, null, null);
    }
  }

  /**
   * One setting.
   *
   * @param key its key in the recorded settings
   * @param option the command-line option that sets it
   * @param rule what a resumed run may do with it
   * @param value its value in a run (null = not known, not recorded)
   */
  public record Row(String key, String option, Rule rule, Function<Context, Object> value) {}

  /** Every recorded setting. */
  public static final List<Row> ROWS = List.of(
      new Row("config", "--config", Rule.SAME, c -> configText(c.options().config())),
      new Row("seed", "--seed", Rule.SAME, c -> c.options().seed()),
      new Row("batch_size", "--batch-size", Rule.SAME, c -> c.options().batchSize()),
      new Row("steps_per_epoch", "--steps-per-epoch", Rule.SAME, c -> c.options().stepsPerEpoch()),
      new Row("learning_rate", "--lr", Rule.SAME, c -> c.options().learningRate()),
      new Row("patience", "--patience", Rule.SAME, c -> c.options().patience()),
      // Validation changes no weight, but history.csv must keep one set of columns.
      new Row("validate", "--validate", Rule.SAME, c -> c.options().validateSamples()),
      new Row("data", "--data", Rule.SAME, c -> fingerprint(c.data())),
      new Row("early_stopping_patience", "--early-stopping-patience", Rule.SAME,
          c -> c.options().fit().callbacks().earlyStoppingPatience()),
      new Row("reduce_lr_patience", "--reduce-lr-patience", Rule.SAME,
          c -> c.options().fit().callbacks().reduceLrPatience()),
      new Row("reduce_lr_factor", "--reduce-lr-factor", Rule.SAME, c -> c.options().fit().callbacks().reduceLrFactor()),
      new Row("reduce_lr_min_delta", "--reduce-lr-min-delta", Rule.SAME,
          c -> c.options().fit().callbacks().reduceLrMinDelta()),
      new Row("min_lr", "--min-lr", Rule.SAME, c -> c.options().fit().callbacks().minLr()),
      // The weights a fresh run started from; a resume loads its checkpoint instead, so only a different file is refused.
      new Row("init", "--init", Rule.SAME, c -> c.options().fit().init() == null ? null
          : c.options().fit().init().sha256()),
      new Row("shuffle", "--shuffle", Rule.SAME, c -> c.options().fit().pairs() == null ? null
          : c.options().fit().pairs().toMap().get("shuffle")),
      // bf16 computes the convolutions and matrix products in another precision.
      new Row("precision", "--precision", Rule.SAME, Context::precision),
      new Row("epochs", "--epochs", Rule.NOT_BELOW_DONE, c -> c.options().epochs()),
      new Row("threads", "--threads", Rule.NOTED, Context::threads),
      new Row("device", "--device", Rule.NOTED, Context::device),
      new Row("data_option", "--data", Rule.FREE, Context::dataOption),
      new Row("pairs_file", "--pairs", Rule.FREE, c -> c.options().fit().pairs() == null ? null
          : c.options().fit().pairs().toMap().get("path")),
      new Row("data_description", "--data", Rule.FREE, c -> c.data().description()),
      new Row("preset", "--preset", Rule.FREE, c -> c.options().preset()),
      new Row("samples", "--samples", Rule.FREE, c -> c.options().sampleCount()),
      new Row("eval_draws", "--eval-draws", Rule.FREE, c -> c.options().evalDraws()),
      new Row("eval_samples", "--eval-samples", Rule.FREE, c -> c.options().evalSamples()));

  private ResumeCheck() {}

  /** The settings of a run, as strings keyed by {@link Row#key()} (what a checkpoint records). */
  public static Map<String, String> settings(Context context) {
    Map<String, String> settings = new LinkedHashMap<>();
    for (Row row : ROWS) {
      Object value = row.value().apply(context);
      if (value != null) {
        settings.put(row.key(), String.valueOf(value));
      }
    }
    return settings;
  }

  /**
   * The settings a checkpoint recorded; a checkpoint written before settings were recorded gives its model config
   * and run seed only.
   */
  public static Map<String, String> recorded(TrainingState state, ModelConfig config) {
    Map<String, String> recorded = new LinkedHashMap<>(state.settings());
    if (recorded.isEmpty()) {
      recorded.put("seed", Long.toString(state.runSeed()));
    }
    recorded.put("config", configText(config));
    return recorded;
  }

  /**
   * Compares a run's settings with those recorded in {@code checkpoint}.
   *
   * @param epochsDone epochs the checkpoint has done
   * @return one notice per {@link Rule#NOTED} setting that changed
   * @throws IllegalArgumentException one line naming each setting that may not change, the checkpoint's value and
   *     the given one
   */
  public static List<String> check(Map<String, String> recorded, Map<String, String> given, int epochsDone,
      Path checkpoint) {
    List<String> refused = new ArrayList<>();
    List<String> notices = new ArrayList<>();
    for (Row row : ROWS) {
      String was = recorded.get(row.key());
      String is = given.get(row.key());
      switch (row.rule()) {
        case SAME -> {
          if (was != null && is != null && !was.equals(is)) {
            refused.add(describe(row, recorded, given));
          }
        }
        case NOT_BELOW_DONE -> {
          if (is != null && Long.parseLong(is) < epochsDone) {
            refused.add(row.option() + " " + is + " (it has done " + epochsDone + " epochs)");
          }
        }
        case NOTED -> {
          if (was != null && is != null && !was.equals(is)) {
            notices.add(row.option() + " " + is + " differs from the checkpoint's " + was + ": the resumed run is "
                + "valid but may differ from an uninterrupted one in the last bits");
          }
        }
        case FREE -> { }
        default -> throw new IllegalStateException(row.rule().name());
      }
    }
    if (!refused.isEmpty()) {
      throw new IllegalArgumentException("--resume: " + checkpoint + " was made with " + String.join(", ", refused)
          + "; a resumed run must keep these to end as an uninterrupted run would (leave them out to use the "
          + "checkpoint's)");
    }
    return notices;
  }

  /** "--seed 7 (given 3)"; for the config and the data only what differs. */
  private static String describe(Row row, Map<String, String> recorded, Map<String, String> given) {
    String was = recorded.get(row.key());
    String is = given.get(row.key());
    if (row.key().equals("config")) {
      Map<String, String> a = configEntries(was);
      Map<String, String> b = configEntries(is);
      List<String> was2 = new ArrayList<>();
      List<String> is2 = new ArrayList<>();
      for (String k : a.keySet()) {
        if (!Objects.equals(a.get(k), b.get(k))) {
          was2.add(k + "=" + a.get(k));
          is2.add(k + "=" + b.get(k));
        }
      }
      return "--config " + String.join(" ", was2) + " (given " + String.join(" ", is2) + ")";
    }
    if (row.key().equals("data")) {
      return "--data " + recorded.getOrDefault("data_description", "?") + " [" + was + "] (given "
          + given.getOrDefault("data_description", "?") + " [" + is + "])";
    }
    return row.option() + " " + was + " (given " + is + ")";
  }

  /**
   * The settings recorded in the newest epoch checkpoint of {@code checkpointsDir} whose state.json and model.json
   * read, for the defaults of a resumed run (the checkpoint is checked whole when the run starts), or empty ones.
   */
  public static Defaults defaults(Path checkpointsDir) {
    List<Path> dirs = CheckpointScan.epochDirectories(checkpointsDir);
    for (int i = dirs.size() - 1; i >= 0; i--) {
      try {
        ModelConfig config = Checkpoint.readConfig(dirs.get(i));
        return new Defaults(recorded(Checkpoint.readState(dirs.get(i)), config), config);
      } catch (RuntimeException e) {
        // damaged: an older one may do; the run itself names what is wrong
      }
    }
    return Defaults.NONE;
  }

  /**
   * Recorded settings as the defaults of a resumed run's options.
   *
   * @param settings recorded settings (empty when nothing was found)
   * @param config the checkpoint's model config, or null
   */
  public record Defaults(Map<String, String> settings, ModelConfig config) {

    /** No checkpoint: every option takes its preset's value. */
    public static final Defaults NONE = new Defaults(Map.of(), null);

    /** The recorded value of {@code key}, or {@code fallback}. */
    public String string(String key, String fallback) {
      return settings.getOrDefault(key, fallback);
    }

    /** The recorded integer of {@code key}, or {@code fallback}. */
    public int integer(String key, int fallback) {
      String v = settings.get(key);
      return v == null ? fallback : Integer.parseInt(v);
    }

    /** The recorded integer of {@code key}, or null. */
    public Integer optionalInteger(String key) {
      String v = settings.get(key);
      return v == null ? null : Integer.valueOf(v);
    }

    /** The recorded number of {@code key}, or {@code fallback}. */
    public double number(String key, double fallback) {
      String v = settings.get(key);
      return v == null ? fallback : Double.parseDouble(v);
    }
  }

  /** The config as one comparable text, {@code filters=[8, 16]; embed_dim=32; ...}. */
  static String configText(ModelConfig config) {
    List<String> parts = new ArrayList<>();
    config.toMap().forEach((k, v) -> parts.add(k + "=" + v));
    return String.join("; ", parts);
  }

  private static Map<String, String> configEntries(String text) {
    Map<String, String> map = new LinkedHashMap<>();
    for (String part : text.split("; ")) {
      int eq = part.indexOf('=');
      map.put(eq < 0 ? part : part.substring(0, eq), eq < 0 ? "" : part.substring(eq + 1));
    }
    return map;
  }

  /**
   * What the run trains and evaluates on: per set its image count and pixel sum (so a moved copy of the same
   * files is the same data), or the description of a source that is not a {@link dev.bss.train.data.Datasets}.
   */
  static String fingerprint(PairData data) {
    if (data instanceof PairsDataset file) {
      // The file's content, not where it is: a moved copy is the same training set.
      return "pairs sha256 " + file.toMap().get("sha256") + ", " + file.toMap().get("pairs") + " pairs";
    }
    if (!(data instanceof DatasetsPairData pairs)) {
      return data.description();
    }
    List<String> parts = new ArrayList<>();
    for (ImageSet set : pairs.datasets().sets()) {
      parts.add(set.name() + " " + set.size() + " images, pixel sum " + set.pixelSum());
    }
    return String.join("; ", parts);
  }
}
