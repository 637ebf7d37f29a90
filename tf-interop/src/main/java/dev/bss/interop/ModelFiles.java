package dev.bss.interop;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.bss.interop.keras.ConfigInference;
import dev.bss.interop.keras.KerasArchive;
import dev.bss.interop.keras.KerasJson;
import dev.bss.interop.keras.KerasWeightsH5;
import dev.bss.interop.keras.LegacyKerasH5;
import dev.bss.interop.keras.WeightCheck;
import dev.bss.interop.numpy.Npy;
import dev.bss.interop.numpy.Npz;
import dev.bss.interop.savedmodel.SavedModelExport;
import dev.bss.interop.savedmodel.SavedModelRunner;
import dev.bss.interop.savedmodel.SavedModelVariables;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.tensorflow.Result;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat32;

/**
 * Every model file format in one place: detection by path, loading to a {@link ModelConfig} plus {@link WeightSet},
 * and writing to any format.
 *
 * <p>Formats: our SavedModel and Keras-made SavedModels (directories with {@code saved_model.pb}), Keras 3
 * {@code .keras} and {@code .weights.h5}, legacy Keras {@code .h5}, our checkpoint directory ({@code weights.npz} +
 * {@code model.json}), a run directory (its {@code final/} model, else the latest {@code checkpoints/epoch-NNNN}),
 * and a bare {@code .npz} of weights by Keras path.
 */
public final class ModelFiles {

  /** Checkpoint file names (the training helper's layout). */
  public static final String CHECKPOINT_WEIGHTS = "weights.npz";

  public static final String CHECKPOINT_MODEL = "model.json";

  private ModelFiles() {}

  /**
   * The format of a path.
   *
   * @throws IllegalArgumentException naming the path when it does not exist or is of no known format
   */
  public static ModelFormat detect(Path path) {
    if (Files.isDirectory(path)) {
      if (Files.isRegularFile(path.resolve("saved_model.pb"))) {
        return ModelFormat.SAVED_MODEL;
      }
      if (Files.isRegularFile(path.resolve(CHECKPOINT_WEIGHTS))) {
        return ModelFormat.CHECKPOINT;
      }
      if (Files.isDirectory(path.resolve(RunLayout.FINAL)) || Files.isDirectory(RunLayout.checkpoints(path))) {
        return ModelFormat.RUN_DIR;
      }
      throw new IllegalArgumentException("model " + path + ": a directory that is neither a SavedModel "
          + "(saved_model.pb), a checkpoint (weights.npz + model.json) nor a run directory (final/ or checkpoints/)");
    }
    if (!Files.exists(path)) {
      throw new IllegalArgumentException("model " + path + ": no such file or directory");
    }
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".keras")) {
      return ModelFormat.KERAS;
    }
    if (name.endsWith(".weights.h5")) {
      return ModelFormat.WEIGHTS_H5;
    }
    if (name.endsWith(".h5") || name.endsWith(".hdf5")) {
      return ModelFormat.LEGACY_H5;
    }
    if (name.endsWith(".npz")) {
      return ModelFormat.NPZ;
    }
    throw new IllegalArgumentException("model " + path + ": unknown format (expected a SavedModel or checkpoint "
        + "directory, .keras, .weights.h5, .h5 or .npz)");
  }

  /** Loads weights with the config found in (or inferred from) the file; see {@link #load(Path, ModelConfig, Path)}. */
  public static LoadedModel load(Path path) {
    return load(path, null, null);
  }

  /**
   * Loads a model's config and weights from any format.
   *
   * @param config overrides the config found in or inferred from the file (null: none)
   * @param positionEmbeddingNpy the position embedding for formats that cannot hold it (a Keras-written
   *     {@code .weights.h5}); null: none
   * @throws IllegalArgumentException with one message naming the file and every problem
   */
  public static LoadedModel load(Path path, ModelConfig config, Path positionEmbeddingNpy) {
    return load(path, config, positionEmbeddingNpy, false);
  }

  /**
   * Loads a model's config and weights from any format; {@code trustModel} skips the op check of a SavedModel that
   * is loaded by TensorFlow (see {@link dev.bss.interop.savedmodel.SavedModelOpCheck}).
   */
  public static LoadedModel load(Path path, ModelConfig config, Path positionEmbeddingNpy, boolean trustModel) {
    return load(detect(path), path, config, positionEmbeddingNpy, trustModel);
  }

  /**
   * Loads a model whose format the caller has already {@linkplain #detect detected} (so a path is detected once per
   * load); otherwise as {@link #load(Path, ModelConfig, Path, boolean)}.
   */
  public static LoadedModel load(ModelFormat format, Path path, ModelConfig config, Path positionEmbeddingNpy,
      boolean trustModel) {
    Weight pos = positionEmbeddingNpy == null ? null : readPositionEmbedding(positionEmbeddingNpy, config);
    try {
      return read(format, path, config, pos, trustModel);
    } catch (IllegalArgumentException e) {
      // A given embedding that does not fit the file's network is the embedding's fault, not the weights file's.
      if (pos != null && e.getMessage() != null && e.getMessage().contains(WeightSet.POSITION_EMBEDDING)
          && !e.getMessage().contains("--pos-embedding")) {
        throw new IllegalArgumentException("--pos-embedding " + positionEmbeddingNpy + " does not fit the model "
            + path + ": " + e.getMessage(), e);
      }
      throw e;
    }
  }

  /** The --pos-embedding file: a .npy of shape [1, 16, embed_dim] (embed_dim of the config when one is given). */
  private static Weight readPositionEmbedding(Path file, ModelConfig config) {
    Npy.Header header;
    try {
      header = Npy.readHeader(file);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--pos-embedding " + e.getMessage(), e);
    }
    long[] shape = header.shape();
    if (shape.length != 3 || shape[0] != 1 || shape[1] != ModelConfig.TOKENS || shape[2] < 1
        || shape[2] > ModelConfig.MAX_WIDTH || (config != null && shape[2] != config.embedDim())) {
      throw new IllegalArgumentException("--pos-embedding " + file + ": expected shape [1, " + ModelConfig.TOKENS
          + ", " + (config != null ? String.valueOf(config.embedDim()) : "embed_dim") + "], found "
          + java.util.Arrays.toString(shape));
    }
    return Npy.readFloats(file);
  }

  private static LoadedModel read(ModelFormat format, Path path, ModelConfig config, Weight pos, boolean trustModel) {
    switch (format) {
      case KERAS -> {
        return KerasArchive.read(path, config);
      }
      case WEIGHTS_H5 -> {
        return KerasWeightsH5.read(path, config, pos);
      }
      case LEGACY_H5 -> {
        return LegacyKerasH5.read(path, config, pos);
      }
      case CHECKPOINT -> {
        return readCheckpoint(path, config);
      }
      case RUN_DIR -> {
        LoadedModel m = readCheckpoint(runModel(path), config);
        return new LoadedModel(ModelFormat.RUN_DIR, m.source(), m.config(), m.weights());
      }
      case NPZ -> {
        WeightSet weights = weightSet(Npz.readFloats(path));
        if (pos != null && !weights.contains(WeightSet.POSITION_EMBEDDING)) {
          weights.put(WeightSet.POSITION_EMBEDDING, pos);
        }
        ModelConfig c = config != null ? config : ConfigInference.fromKerasPaths(weights, "weights file " + path);
        WeightCheck.validate(weights, c, "weights file " + path);
        return new LoadedModel(format, path, c, weights);
      }
      case SAVED_MODEL -> {
        if (!trustModel) {
          // Checked even where only the variables are read: one rule for every SavedModel bss opens.
          dev.bss.interop.savedmodel.SavedModelOpCheck.check(path);
        }
        return readOurSavedModel(path, config, pos, trustModel);
      }
      default -> throw new IllegalStateException(format.toString());
    }
  }

  /** The model directory of a run: {@code final/}, else {@code checkpoints/best}, else the latest epoch checkpoint. */
  public static Path runModel(Path runDir) {
    for (Path candidate : List.of(runDir.resolve(RunLayout.FINAL), RunLayout.checkpoints(runDir).resolve(RunLayout.BEST))) {
      if (Files.isRegularFile(candidate.resolve(CHECKPOINT_WEIGHTS))) {
        return candidate;
      }
    }
    Path checkpoints = RunLayout.checkpoints(runDir);
    if (Files.isDirectory(checkpoints)) {
      try (Stream<Path> dirs = Files.list(checkpoints)) {
        Optional<Path> latest = dirs.filter(RunLayout::isEpochDir)
            .filter(p -> Files.isRegularFile(p.resolve(CHECKPOINT_WEIGHTS)))
            .max(Comparator.comparingLong(RunLayout::epochOf));
        if (latest.isPresent()) {
          return latest.get();
        }
      } catch (IOException e) {
        throw new IllegalArgumentException("run directory " + runDir + ": cannot list checkpoints (" + e.getMessage()
            + ")", e);
      }
    }
    throw new IllegalArgumentException("run directory " + runDir + ": no final/ model and no checkpoints/epoch-NNNN "
        + "with weights.npz");
  }

  private static LoadedModel readCheckpoint(Path dir, ModelConfig override) {
    String where = "checkpoint " + dir;
    WeightSet weights = weightSet(Npz.readFloats(dir.resolve(CHECKPOINT_WEIGHTS)));
    ModelConfig config = override;
    if (config == null) {
      Path modelJson = dir.resolve(CHECKPOINT_MODEL);
      if (Files.isRegularFile(modelJson)) {
        config = readConfigJson(modelJson);
      } else {
        config = ConfigInference.fromKerasPaths(weights, where);
      }
    }
    WeightCheck.validate(weights, config, where);
    return new LoadedModel(ModelFormat.CHECKPOINT, dir, config, weights);
  }

  /** A {@code model.json} (ModelConfig.toMap() as JSON, possibly with extra keys under "config"). */
  public static ModelConfig readConfigJson(Path file) {
    JsonObject o = JsonLimits.readObject(file, "model config " + file);
    if (o.has("config") && o.get("config").isJsonObject()) {
      o = o.getAsJsonObject("config");
    }
    try {
      return ModelConfig.fromMap(KerasJson.toJava(o));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static WeightSet weightSet(Map<String, Weight> map) {
    WeightSet w = new WeightSet();
    map.forEach(w::put);
    return w;
  }

  /**
   * Reads the weights of a SavedModel written by {@link SavedModelExport} (by the variable names it records), else
   * those of a Keras-made one ({@link SavedModelVariables}).
   */
  private static LoadedModel readOurSavedModel(Path dir, ModelConfig override, Weight positionEmbedding,
      boolean trustModel) {
    Path provenance = dir.resolve(SavedModelExport.PROVENANCE);
    if (!Files.isRegularFile(provenance)) {
      // Not written by bss: map a Keras-made SavedModel's variables by their checkpoint keys.
      return SavedModelVariables.read(dir, override, positionEmbedding);
    }
    JsonObject info = JsonLimits.readObject(provenance, "SavedModel " + dir + " " + SavedModelExport.PROVENANCE);
    ModelConfig config = override != null ? override
        : ModelConfig.fromMap(KerasJson.toJava(info.getAsJsonObject("config")));
    WeightSet weights = new WeightSet();
    try (SavedModelRunner runner = SavedModelRunner.open(dir, null, trustModel)) {
      for (Map.Entry<String, com.google.gson.JsonElement> e : info.getAsJsonObject("variables").entrySet()) {
        try (Result r = runner.bundle().session().runner().fetch(e.getValue().getAsString()).run()) {
          Tensor t = r.get(0);
          if (!(t instanceof TFloat32 f)) {
            throw new IllegalArgumentException("SavedModel " + dir + ": variable " + e.getKey() + " is not float32");
          }
          float[] data = new float[Math.toIntExact(f.shape().size())];
          f.asRawTensor().data().asFloats().read(data);
          weights.put(e.getKey(), new Weight(f.shape().asArray(), data));
        }
      }
    }
    WeightCheck.validate(weights, config, "SavedModel " + dir);
    return new LoadedModel(ModelFormat.SAVED_MODEL, dir, config, weights);
  }

  /**
   * Writes a model in a format (atomically: nothing is left half-written).
   *
   * @param source recorded in provenance where the format has room for it
   */
  public static void save(ModelConfig config, WeightSet weights, ModelFormat format, Path out, String source)
      throws IOException {
    switch (format) {
      case SAVED_MODEL -> SavedModelExport.export(out, config, weights, source);
      case KERAS -> KerasArchive.write(out, config, weights);
      case WEIGHTS_H5 -> KerasWeightsH5.write(out, config, weights);
      case CHECKPOINT -> writeCheckpoint(out, config, weights);
      default -> throw new IllegalArgumentException("cannot write format " + format.cliName());
    }
  }

  /** Writes our checkpoint layout: {@code weights.npz} (by Keras path) and {@code model.json} (the config). */
  public static void writeCheckpoint(Path dir, ModelConfig config, WeightSet weights) throws IOException {
    WeightCheck.validate(weights, config, "weights to write");
    AtomicFiles.writeDirectory(dir, tmp -> writeModelFiles(tmp, config, weights));
  }

  /**
   * Writes the model part of our checkpoint layout, {@code weights.npz} and {@code model.json}, into an existing
   * (temporary) directory; training checkpoints add their optimizer and state files beside them.
   */
  public static void writeModelFiles(Path dir, ModelConfig config, WeightSet weights) {
    Npz.writeFloats(dir.resolve(CHECKPOINT_WEIGHTS), weights.asMap());
    AtomicFiles.writeString(dir.resolve(CHECKPOINT_MODEL),
        new GsonBuilder().setPrettyPrinting().create().toJson(config.toMap()) + "\n");
  }
}
