package dev.bss.train.io;

import dev.bss.interop.AtomicFiles;
import dev.bss.interop.ModelFiles;
import dev.bss.interop.RunLayout;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.reflect.TypeToken;
import dev.bss.interop.numpy.Npz;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
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
 * {@code m/<path>}, {@code v/<path>} and {@code iterations}) and {@code state.json} (epoch, learning rate, callback
 * and RNG state, history). A run keeps {@code checkpoints/epoch-NNNN/} for the last two epochs plus
 * {@code checkpoints/best/}.
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

  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
      .create();

  private Checkpoint() {}

  /** Directory name of the checkpoint after {@code epoch} completed epochs (1-based). */
  public static String epochDirName(int epoch) {
    return RunLayout.epochDirName(epoch);
  }

  /**
   * Writes a checkpoint directory atomically (temporary sibling, then rename), replacing an older one of that name.
   *
   * @param optimizer Adam state, or null (e.g. for the best-weights checkpoint)
   */
  public static void write(Path dir, ModelConfig config, WeightSet weights, Map<String, Weight> optimizer,
      Map<String, Object> state) {
    try {
      AtomicFiles.writeDirectory(dir, tmp -> {
        ModelFiles.writeModelFiles(tmp, config, weights);
        if (optimizer != null) {
          Npz.writeFloats(tmp.resolve(OPTIMIZER), optimizer);
        }
        AtomicFiles.writeString(tmp.resolve(STATE), GSON.toJson(state) + "\n");
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

  /** The training state ({@code state.json}) of a checkpoint directory. */
  public static Map<String, Object> readState(Path dir) {
    return readJson(dir.resolve(STATE));
  }

  static Map<String, Object> readJson(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(file.getParent() + ": not a checkpoint (expected " + file.getFileName()
          + ")");
    }
    try {
      Map<String, Object> map = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8),
          new TypeToken<LinkedHashMap<String, Object>>() {}.getType());
      if (map == null) {
        throw new IllegalArgumentException(file + ": expected a JSON object, found an empty file");
      }
      return map;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (com.google.gson.JsonParseException e) {
      throw new IllegalArgumentException(file + ": expected a JSON object, found invalid JSON (" + e.getMessage()
          + ")");
    }
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
