package dev.bss.train.io;

import dev.bss.interop.AtomicFiles;
import dev.bss.interop.ModelFiles;
import dev.bss.interop.RunLayout;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.bss.interop.numpy.Npz;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import dev.bss.train.callbacks.BestWeightsKeeper;
import dev.bss.train.callbacks.EarlyStopping;
import dev.bss.train.callbacks.ReduceLrOnPlateau;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One training checkpoint directory: {@code weights.npz} (the model WeightSet keyed by Keras path, incl.
 * {@code pos_embedding}), {@code model.json} ({@link ModelConfig#toMap()}), {@code optimizer.npz} (Adam slots
 * {@code m/<path>}, {@code v/<path>} and {@code iterations}) and {@code state.json} (a {@link TrainingState}: epoch,
 * step, learning rate, callback states, history, the run's settings). A run keeps {@code checkpoints/epoch-NNNN/}
 * for the last two epochs plus {@code checkpoints/best/}.
 *
 * <p>A directory is written under a temporary name and renamed when complete, so a killed run never leaves a
 * checkpoint that looks complete but is not.
 */
public final class Checkpoint {

  public static final String WEIGHTS = ModelFiles.CHECKPOINT_WEIGHTS;
  public static final String MODEL = ModelFiles.CHECKPOINT_MODEL;
  public static final String OPTIMIZER = "optimizer.npz";
  public static final String STATE = "state.json";
  /** Name of the best-weights checkpoint under {@code checkpoints/}. */
  public static final String BEST = RunLayout.BEST;

  /** The format every checkpoint's state.json names. */
  public static final String FORMAT = "bss-train-checkpoint-1";
  /** The key of the run's resume settings in state.json. */
  public static final String SETTINGS = "settings";
  private static final String EARLY_STOPPING = "early_stopping";
  private static final String REDUCE_LR = "reduce_lr_on_plateau";
  private static final String BEST_WEIGHTS = "best_weights";

  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
      .create();

  private Checkpoint() {}

  /** Directory name of the checkpoint after {@code epoch} completed epochs (1-based). */
  public static String epochDirName(int epoch) {
    return RunLayout.epochDirName(epoch);
  }

  /**
   * Writes an epoch checkpoint directory atomically (temporary sibling, then rename), replacing an older one of that
   * name: weights, model config, the Adam state and {@code state} as state.json ({@link #stateJson}).
   */
  public static void write(Path dir, ModelConfig config, WeightSet weights, Map<String, Weight> optimizer,
      TrainingState state) {
    write(dir, config, weights, optimizer, stateJson(state));
  }

  /**
   * Writes a weights-only checkpoint ({@code best/}, {@code final/}) atomically: weights, model config and a
   * state.json naming the format, the epoch the weights are from and {@code about} (e.g. its loss).
   */
  public static void writeWeights(Path dir, ModelConfig config, WeightSet weights, int epoch,
      Map<String, String> about) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("format", FORMAT);
    json.put("epoch", epoch);
    json.putAll(about);
    write(dir, config, weights, null, GSON.toJson(json) + "\n");
  }

  private static void write(Path dir, ModelConfig config, WeightSet weights, Map<String, Weight> optimizer,
      String stateJson) {
    try {
      AtomicFiles.writeDirectory(dir, tmp -> {
        ModelFiles.writeModelFiles(tmp, config, weights);
        if (optimizer != null) {
          Npz.writeFloats(tmp.resolve(OPTIMIZER), optimizer);
        }
        AtomicFiles.writeString(tmp.resolve(STATE), stateJson);
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + dir + ": " + e.getMessage(), e);
    } catch (UncheckedIOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + dir + ": " + e.getMessage(), e.getCause());
    }
  }

  /** The model config of a checkpoint directory. */
  public static ModelConfig readConfig(Path dir) {
    Path file = dir.resolve(MODEL);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(dir + ": not a checkpoint (expected " + MODEL + ")");
    }
    return ModelFiles.readConfigJson(file);
  }

  /** The weights of a checkpoint directory. */
  public static WeightSet readWeights(Path dir) {
    Path file = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(dir + ": not a checkpoint (expected " + WEIGHTS + ")");
    }
    WeightSet set = new WeightSet();
    Npz.readFloats(file).forEach(set::put);
    return set;
  }

  /** The optimizer state of a checkpoint directory. */
  public static Map<String, Weight> readOptimizer(Path dir) {
    Path file = dir.resolve(OPTIMIZER);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(dir + ": checkpoint has no optimizer state (expected " + OPTIMIZER + ")");
    }
    return Npz.readFloats(file);
  }

  /**
   * The training state ({@code state.json}) of an epoch checkpoint directory.
   *
   * @throws IllegalArgumentException one line naming the file and the first missing or malformed key
   */
  public static TrainingState readState(Path dir) {
    Path file = dir.resolve(STATE);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(dir + ": not a checkpoint (expected " + STATE + ")");
    }
    try {
      return parseState(Files.readString(file, StandardCharsets.UTF_8), file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** The state.json text of {@code state}: the one layout of a training state, read back by {@link #parseState}. */
  public static String stateJson(TrainingState state) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("format", FORMAT);
    json.put("epoch", state.epoch());
    json.put("global_step", state.globalStep());
    // Floats and doubles as Java's shortest exact text: JSON numbers have no infinity, and the text round-trips.
    json.put("learning_rate", Float.toString(state.learningRate()));
    json.put("stopped", state.stopped());
    json.put("run_seed", state.runSeed());
    json.put("next_data_seed", Long.toString(state.nextDataSeed()));
    json.put(SETTINGS, state.settings());
    EarlyStopping.State es = state.callbacks().earlyStopping();
    ReduceLrOnPlateau.State rlr = state.callbacks().reduceLrOnPlateau();
    BestWeightsKeeper.State keeper = state.callbacks().bestWeights();
    Map<String, Object> callbacks = new LinkedHashMap<>();
    callbacks.put(EARLY_STOPPING, orderedMap("wait", es.waitCount(), "best", Double.toString(es.best()), "best_epoch",
        es.bestEpoch(), "stopped_epoch", es.stoppedEpoch()));
    callbacks.put(REDUCE_LR, orderedMap("wait", rlr.waitCount(), "cooldown_counter", rlr.cooldownCounter(), "best",
        Double.toString(rlr.best())));
    callbacks.put(BEST_WEIGHTS, orderedMap("best", Double.toString(keeper.best()), "best_epoch", keeper.bestEpoch()));
    json.put("callbacks", callbacks);
    json.put("best_checkpoint", state.hasBest() ? BEST : null);
    json.put("fit", state.fit());
    List<Map<String, String>> history = new ArrayList<>();
    for (Map<String, Double> row : state.history()) {
      Map<String, String> text = new LinkedHashMap<>();
      row.forEach((k, v) -> text.put(k, Double.toString(v)));
      history.add(text);
    }
    json.put("history", history);
    return GSON.toJson(json) + "\n";
  }

  /**
   * Reads a state.json text written by {@link #stateJson}; {@code settings} and {@code fit} may be absent (older
   * checkpoints).
   *
   * @param file named in messages
   * @throws IllegalArgumentException one line naming {@code file} and the first missing or malformed key
   */
  public static TrainingState parseState(String text, Path file) {
    JsonFields json = JsonFields.parse(text, file);
    String format = json.string("format");
    if (!format.equals(FORMAT)) {
      throw json.error("format", FORMAT, format);
    }
    JsonFields callbacks = json.object("callbacks");
    JsonFields es = callbacks.object(EARLY_STOPPING);
    JsonFields rlr = callbacks.object(REDUCE_LR);
    JsonFields keeper = callbacks.object(BEST_WEIGHTS);
    TrainingState.Callbacks states = new TrainingState.Callbacks(
        new EarlyStopping.State(es.integer("wait"), es.number("best"), es.integer("best_epoch"),
            es.integer("stopped_epoch")),
        new ReduceLrOnPlateau.State(rlr.integer("wait"), rlr.integer("cooldown_counter"), rlr.number("best")),
        new BestWeightsKeeper.State(keeper.number("best"), keeper.integer("best_epoch")));
    List<Map<String, Double>> history = new ArrayList<>();
    for (JsonFields row : json.objects("history")) {
      history.add(row.numbers());
    }
    return new TrainingState(json.integer("epoch"), json.longInteger("global_step"), json.float32("learning_rate"),
        json.bool("stopped"), json.longInteger("run_seed"), json.longInteger("next_data_seed"),
        json.stringsOrEmpty(SETTINGS), states, json.valuesOrEmpty("fit"), history);
  }

  /** A JSON object's entries in the order given: {@code orderedMap("epoch", 3, "loss", "0.1")}. */
  public static Map<String, Object> orderedMap(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  /** Complete epoch checkpoints under {@code checkpointsDir}, oldest first (temporaries are ignored). */
  public static List<Path> epochCheckpoints(Path checkpointsDir) {
    List<Path> found = new ArrayList<>();
    if (!Files.isDirectory(checkpointsDir)) {
      return found;
    }
    try (Stream<Path> list = Files.list(checkpointsDir)) {
      list.filter(RunLayout::isEpochDir)
          .filter(p -> Files.isRegularFile(p.resolve(STATE)) && Files.isRegularFile(p.resolve(WEIGHTS)))
          .sorted((a, b) -> Integer.compare(epochOf(a), epochOf(b)))
          .forEach(found::add);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + checkpointsDir + ": " + e.getMessage(), e);
    }
    return found;
  }

  /** The epoch number of an {@code epoch-NNNN} directory. */
  public static int epochOf(Path dir) {
    long epoch = RunLayout.epochOf(dir);
    if (epoch < 0) {
      throw new IllegalArgumentException(dir + ": expected a directory named epoch-NNNN");
    }
    return Math.toIntExact(epoch);
  }

  /** Deletes all but the newest {@code keep} epoch checkpoints (the best checkpoint is separate and kept). */
  public static void prune(Path checkpointsDir, int keep) {
    List<Path> all = epochCheckpoints(checkpointsDir);
    for (int i = 0; i < all.size() - keep; i++) {
      try {
        AtomicFiles.deleteRecursively(all.get(i));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete old checkpoint " + all.get(i) + ": " + e.getMessage(), e);
      }
    }
  }

  /** JSON text in the checkpoint's style (for run.json). */
  public static String toJson(Object value) {
    return GSON.toJson(value);
  }
}
