package dev.bss.interop.keras;

import dev.bss.model.keras.ReferenceGraph;
import dev.bss.model.keras.KerasGraph;
import dev.bss.interop.ModelFormat;
import dev.bss.interop.LoadedModel;
import dev.bss.interop.AtomicFiles;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keras 3 {@code .weights.h5} files ({@code model.save_weights}) of the reference network, read and written with
 * jHDF, mapped through {@link WeightsH5Layout}.
 *
 * <p>The position embedding is not a Keras weight, so Keras's layout has no place for it. This class writes it as
 * the extra dataset {@value #POS_EMBEDDING_DATASET} (float32 {@code [1, 16, embed_dim]}). Keras 3's loader
 * ({@code saving_lib.H5IOStore.get}) only opens the groups the model's own layers ask for, so it ignores that
 * dataset. A file without it (every file Keras writes) needs the embedding from elsewhere: the caller passes it, or
 * reading fails with a message saying so; it is never drawn at random.
 */
public final class KerasWeightsH5 {

  /** Where this project stores the frozen position embedding in a {@code .weights.h5} file. */
  public static final String POS_EMBEDDING_DATASET = "bss/pos_embedding";

  private KerasWeightsH5() {}

  /**
   * The raw contents: every dataset by its path ({@code layers/conv2d/vars/0}); datasets outside {@code layers/} and
   * {@value #POS_EMBEDDING_DATASET} map to null (named, not read).
   */
  public static Map<String, Weight> readDatasets(Path file) {
    try (HdfFile hdf = Hdf5.open(file, "Keras weights file")) {
      return readDatasets(hdf, file.toString());
    }
  }

  static Map<String, Weight> readDatasets(HdfFile hdf, String where) {
    Map<String, Weight> out = new LinkedHashMap<>();
    Map<String, Dataset> all = Hdf5.datasets(hdf, where);
    // Only layer variables and the position embedding can be weights; any other dataset (optimizer state, or a
    // hostile compressed blob) is listed by name but never decompressed. Declared sizes are checked before reading.
    Map<String, Dataset> toRead = new LinkedHashMap<>();
    for (Map.Entry<String, Dataset> e : all.entrySet()) {
      if (e.getKey().startsWith("layers/") || e.getKey().equals(POS_EMBEDDING_DATASET)) {
        toRead.put(e.getKey(), e.getValue());
      }
    }
    Hdf5.checkDeclaredSizes(toRead.values(), where);
    for (Map.Entry<String, Dataset> e : all.entrySet()) {
      Dataset d = toRead.get(e.getKey());
      out.put(e.getKey(), d == null ? null : Hdf5.weight(d, where));
    }
    if (out.keySet().stream().noneMatch(k -> k.startsWith("layers/"))) {
      throw new IllegalArgumentException(where + ": no Keras 3 weights found (expected datasets under layers/<layer>"
          + "/vars/<i>; a legacy Keras .h5 has model_weights/ instead)");
    }
    return out;
  }

  /**
   * Reads a {@code .weights.h5} file.
   *
   * @param config the network's config, or null to infer it from the weights' shapes
   * @param positionEmbedding overrides the file's {@value #POS_EMBEDDING_DATASET} (needed when the file has none,
   *     as in every file Keras writes); may be null
   * @throws IllegalArgumentException listing every missing, unexpected or mis-shaped weight, or when the position
   *     embedding is neither in the file nor given
   */
  public static LoadedModel read(Path file, ModelConfig config, Weight positionEmbedding) {
    return fromDatasets(readDatasets(file), config, positionEmbedding, ModelFormat.WEIGHTS_H5, file, file.toString());
  }

  static LoadedModel fromDatasets(Map<String, Weight> datasets, ModelConfig config, Weight positionEmbedding,
      ModelFormat format, Path source,
      String where) {
    if (config == null) {
      config = ConfigInference.fromWeightsH5(datasets, where);
    }
    KerasGraph graph = ReferenceGraph.of(config);
    WeightsH5Layout layout = WeightsH5Layout.of(graph);
    WeightSet weights = new WeightSet();
    List<String> missing = new ArrayList<>();
    for (WeightsH5Layout.Entry e : layout.entries()) {
      Weight w = datasets.get(e.h5Path());
      if (w == null) {
        missing.add(e.kerasPath() + " (" + e.h5Path() + ")");
      } else {
        weights.put(e.kerasPath(), w);
      }
    }
    Map<String, String> known = new HashMap<>();
    layout.entries().forEach(e -> known.put(e.h5Path(), e.kerasPath()));
    List<String> unexpected = new ArrayList<>();
    for (String path : datasets.keySet()) {
      if (!known.containsKey(path) && !path.equals(POS_EMBEDDING_DATASET) && !path.startsWith("optimizer/")) {
        unexpected.add(path);
      }
    }
    // An embedding given by the caller wins over the one stored in the file.
    Weight pos = positionEmbedding != null ? positionEmbedding : datasets.get(POS_EMBEDDING_DATASET);
    if (pos == null) {
      missing.add(dev.bss.model.WeightSet.POSITION_EMBEDDING + " (not stored in Keras weight files: give it with "
          + "--pos-embedding FILE.npy, e.g. the pos_embedding.npy saved with the model)");
    } else {
      weights.put(WeightSet.POSITION_EMBEDDING, pos);
    }
    WeightCheck.requireComplete(where, config, missing, unexpected);
    WeightCheck.validate(weights, config, where);
    return new LoadedModel(format, source, config, weights);
  }

  /**
   * Writes {@code weights} as a Keras 3 {@code .weights.h5} file (atomically) with every group Keras writes,
   * plus the position embedding in {@value #POS_EMBEDDING_DATASET}.
   */
  public static void write(Path file, ModelConfig config, WeightSet weights) throws IOException {
    WeightCheck.validate(weights, config, "weights to write");
    AtomicFiles.write(file, tmp -> writeTo(tmp, config, weights, true));
  }

  /** Writes the layout to {@code file} (not atomic; the caller owns the temporary file). */
  static void writeTo(Path file, ModelConfig config, WeightSet weights, boolean withPositionEmbedding) {
    KerasGraph graph = ReferenceGraph.of(config);
    WeightsH5Layout layout = WeightsH5Layout.of(graph);
    try (WritableHdfFile hdf = HdfFile.write(file)) {
      Map<String, WritableGroup> made = new HashMap<>();
      java.util.Set<String> withData = new java.util.HashSet<>();
      layout.entries().forEach(e -> withData.add(e.h5Path().substring(0, e.h5Path().lastIndexOf('/'))));
      // Keras also writes an empty vars group (with a "name" attribute) for the model and for every weightless
      // layer. jHDF 0.13 writes a damaged file when childless groups sit next to groups with data, so only groups
      // that hold datasets are written; Keras's loader (H5IOStore.get) reads a missing group as "no variables",
      // which is what a weightless layer expects.
      for (WeightsH5Layout.Group g : layout.groups()) {
        if (withData.contains(g.path() + "/vars")) {
          Hdf5.group(hdf, made, g.path() + "/vars").putAttribute("name", g.name());
        }
      }
      for (WeightsH5Layout.Entry e : layout.entries()) {
        int slash = e.h5Path().lastIndexOf('/');
        WritableGroup vars = Hdf5.group(hdf, made, e.h5Path().substring(0, slash));
        vars.putDataset(e.h5Path().substring(slash + 1), Hdf5.nested(weights.get(e.kerasPath())));
      }
      if (withPositionEmbedding) {
        WritableGroup bss = Hdf5.group(hdf, made, POS_EMBEDDING_DATASET.substring(0, POS_EMBEDDING_DATASET.indexOf('/')));
        bss.putAttribute("description", "frozen position embedding [1, 16, embed_dim] of the bss network; "
            + "not a Keras weight (Keras ignores this group)");
        bss.putDataset("pos_embedding", Hdf5.nested(weights.get(WeightSet.POSITION_EMBEDDING)));
      }
    }
  }
}
