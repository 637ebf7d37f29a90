package dev.bss.train.loop;

import dev.bss.interop.AtomicFiles;
import dev.bss.interop.keras.WeightCheck;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.io.TrainingState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the checkpoint a {@code --resume} continues from: the newest {@code epoch-NNNN} directory under
 * {@code checkpoints/} whose every file reads and agrees with the others (format, epoch, step count, weight names,
 * shapes and values against its model.json, optimizer slots). A damaged newer one is passed over with a notice and
 * left in place (the resumed run rewrites it). Also removes the temporary directories a killed checkpoint write
 * leaves behind.
 */
public final class CheckpointScan {

  /** AtomicFiles' temporaries of checkpoint directories: {@code .epoch-0003.123}, {@code .best.old.456}. */
  private static final Pattern ORPHAN = Pattern.compile("\\.(epoch-\\d{4,}|" + Pattern.quote(Checkpoint.BEST)
      + ")\\..+");

  private CheckpointScan() {}

  /**
   * A checkpoint read whole and checked.
   *
   * @param dir the {@code epoch-NNNN} directory
   * @param state its state.json
   * @param config its model.json
   * @param weights its weights.npz (names, shapes and finiteness checked against {@code config})
   * @param optimizer its optimizer.npz (slots checked against {@code weights}, iterations against the state)
   */
  public record Loaded(Path dir, TrainingState state, ModelConfig config, WeightSet weights,
      Map<String, Weight> optimizer) {

    /** Epochs done when it was written. */
    public int epoch() {
      return state.epoch();
    }

    /** Training steps done when it was written. */
    public long globalStep() {
      return state.globalStep();
    }
  }

  /**
   * The newest intact epoch checkpoint under {@code checkpointsDir}.
   *
   * @param notices one line for each newer checkpoint passed over, naming it and what is wrong
   * @throws IllegalArgumentException when there is none, naming every damaged one
   */
  public static Loaded newestIntact(Path checkpointsDir, Consumer<String> notices) {
    List<Path> candidates = epochDirectories(checkpointsDir);
    List<String> damaged = new ArrayList<>();
    for (int i = candidates.size() - 1; i >= 0; i--) {
      Path dir = candidates.get(i);
      try {
        Loaded loaded = load(dir);
        for (String d : damaged) {
          notices.accept("passing over a damaged checkpoint: " + d + "; resuming from " + dir.getFileName());
        }
        return loaded;
      } catch (RuntimeException e) { // any unreadable or inconsistent file: IllegalArgument, UncheckedIO, ...
        damaged.add(dir + " (" + firstLine(e.getMessage()) + ")");
      }
    }
    if (damaged.isEmpty()) {
      throw new IllegalArgumentException("--resume: no complete checkpoint under " + checkpointsDir);
    }
    throw new IllegalArgumentException("--resume: no intact checkpoint under " + checkpointsDir + ": "
        + String.join("; ", damaged));
  }

  /** Reads and cross-checks every file of one epoch checkpoint. */
  public static Loaded load(Path dir) {
    TrainingState state = Checkpoint.readState(dir);
    Path file = dir.resolve(Checkpoint.STATE);
    int epoch = Checkpoint.epochOf(dir);
    if (state.epoch() != epoch) {
      throw new IllegalArgumentException(file + ": expected epoch " + epoch + ", found " + state.epoch());
    }
    if (state.globalStep() < 0) {
      throw new IllegalArgumentException(file + ": expected a global_step >= 0, found " + state.globalStep());
    }
    if (!(state.learningRate() > 0) || !Float.isFinite(state.learningRate())) {
      throw new IllegalArgumentException(file + ": expected a positive learning_rate, found "
          + state.learningRate());
    }
    if (state.history().size() != epoch) {
      throw new IllegalArgumentException(file + ": expected " + epoch + " history rows, found "
          + state.history().size());
    }
    ModelConfig config = Checkpoint.readConfig(dir);
    WeightSet weights = Checkpoint.readWeights(dir);
    WeightCheck.validate(weights, config, dir.resolve(Checkpoint.WEIGHTS).toString());
    Map<String, Weight> optimizer = Checkpoint.readOptimizer(dir);
    checkOptimizer(dir.resolve(Checkpoint.OPTIMIZER), optimizer, weights, state.globalStep());
    return new Loaded(dir, state, config, weights, optimizer);
  }

  private static void checkOptimizer(Path file, Map<String, Weight> optimizer, WeightSet weights, long step) {
    Weight iterations = optimizer.get("iterations");
    if (iterations == null || iterations.size() != 1 || iterations.data()[0] != (float) step) {
      throw new IllegalArgumentException(file + ": expected iterations " + step + ", found "
          + (iterations == null ? "none" : Arrays.toString(iterations.data())));
    }
    for (Map.Entry<String, Weight> e : optimizer.entrySet()) {
      String key = e.getKey();
      if (key.equals("iterations")) {
        continue;
      }
      String path = key.startsWith("m/") || key.startsWith("v/") ? key.substring(2) : null;
      Weight w = path == null ? null : weights.get(path);
      if (w == null || !Arrays.equals(w.shape(), e.getValue().shape())) {
        throw new IllegalArgumentException(file + ": slot " + key + " fits no weight"
            + (w == null ? "" : " (expected " + w.shapeString() + ", found " + e.getValue().shapeString() + ")"));
      }
      if (e.getValue().firstNonFinite() >= 0) {
        throw new IllegalArgumentException(file + ": slot " + key + " holds a non-finite value");
      }
    }
  }

  /**
   * Deletes the temporaries of checkpoint writes that never finished ({@code .epoch-NNNN.*}, {@code .best.*}); call
   * only while holding the run's lock, after a successful write.
   */
  public static void removeOrphans(Path checkpointsDir) {
    if (!Files.isDirectory(checkpointsDir)) {
      return;
    }
    try (Stream<Path> list = Files.list(checkpointsDir)) {
      for (Path p : list.filter(p -> ORPHAN.matcher(p.getFileName().toString()).matches()).toList()) {
        AtomicFiles.deleteRecursively(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean " + checkpointsDir + ": " + e.getMessage(), e);
    }
  }

  /** Every {@code epoch-NNNN} directory, complete or not, oldest first. */
  static List<Path> epochDirectories(Path checkpointsDir) {
    if (!Files.isDirectory(checkpointsDir)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(checkpointsDir)) {
      return list.filter(Files::isDirectory).filter(p -> isEpochName(p.getFileName().toString()))
          .sorted(Comparator.comparingInt(Checkpoint::epochOf)).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + checkpointsDir + ": " + e.getMessage(), e);
    }
  }

  private static boolean isEpochName(String name) {
    try {
      Checkpoint.epochOf(Path.of(name));
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static String firstLine(String message) {
    return message == null ? "unreadable" : message.lines().findFirst().orElse(message);
  }
}
