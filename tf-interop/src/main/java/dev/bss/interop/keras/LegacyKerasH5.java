package dev.bss.interop.keras;

import dev.bss.interop.ModelFormat;
import dev.bss.interop.LoadedModel;
import com.google.gson.JsonObject;
import dev.bss.interop.JsonLimits;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Legacy Keras HDF5 files ({@code model.save("x.h5")} of tf.keras 2.x or Keras 3, or {@code save_weights("x.h5")}):
 * weights read by layer name from {@code model_weights/<layer>/<weight name>} as listed by the {@code layer_names}
 * and {@code weight_names} attributes. tf.keras 2.x weight names end in {@code :0}, which is dropped, so that
 * {@code conv2d/kernel:0} becomes the Keras path {@code conv2d/kernel}.
 *
 * <p>The position embedding comes from the {@code model_config} attribute (the {@code __tensor__} argument of the
 * {@code add} node, as in a {@code .keras} config) when present, else from the caller.
 */
public final class LegacyKerasH5 {

  private LegacyKerasH5() {}

  /**
   * Reads a legacy {@code .h5} file.
   *
   * @param config the config, or null to infer it from the weights' shapes
   * @param positionEmbedding overrides the embedding of the file's model_config; may be null
   */
  public static LoadedModel read(Path file, ModelConfig config, Weight positionEmbedding) {
    String where = "legacy Keras .h5 file " + file;
    try (HdfFile hdf = Hdf5.open(file, "legacy Keras .h5 file")) {
      Node weightsRoot = hdf.getChildren().get("model_weights");
      Group root = weightsRoot instanceof Group g ? g : hdf;
      List<String> layerNames = Hdf5.stringListAttribute(root, "layer_names");
      if (layerNames.isEmpty()) {
        throw new IllegalArgumentException(where + ": no layer_names attribute (expected a Keras HDF5 model or "
            + "weights file; a Keras 3 .weights.h5 file must be named *.weights.h5)");
      }
      WeightSet weights = new WeightSet();
      java.util.Map<String, Dataset> listed = new java.util.LinkedHashMap<>();
      List<String> problems = new ArrayList<>();
      for (String layer : layerNames) {
        Node node = root.getChildren().get(layer);
        if (!(node instanceof Group layerGroup)) {
          problems.add(layer + " (group missing)");
          continue;
        }
        for (String weightName : Hdf5.stringListAttribute(layerGroup, "weight_names")) {
          Node d = layerGroup.getByPath(weightName);
          if (!(d instanceof Dataset dataset)) {
            problems.add(layer + "/" + weightName + " (dataset missing)");
            continue;
          }
          String path = weightName.endsWith(":0") ? weightName.substring(0, weightName.length() - 2) : weightName;
          listed.put(path, dataset);
        }
      }
      // Every listed dataset's declared size is checked (one by one and in all) before any is read.
      Hdf5.checkDeclaredSizes(listed.values(), where);
      for (java.util.Map.Entry<String, Dataset> e : listed.entrySet()) {
        weights.put(e.getKey(), Hdf5.weight(e.getValue(), where));
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(where + ": listed weights missing: " + String.join(", ", problems));
      }
      String modelConfig = Hdf5.stringAttribute(hdf, "model_config");
      Weight pos = positionEmbedding;
      if (pos == null && modelConfig != null) {
        if (modelConfig.length() > JsonLimits.MAX_CONFIG_BYTES) {
          throw new IllegalArgumentException(where + ": model_config attribute of " + modelConfig.length()
              + " characters, more than the " + JsonLimits.MAX_CONFIG_BYTES + " accepted");
        }
        JsonObject configJson = JsonLimits.parseObject(modelConfig, where + " model_config attribute");
        try {
          pos = KerasArchive.positionEmbedding(KerasArchive.functionalLayers(configJson, where), where);
        } catch (IllegalArgumentException e) {
          // No embedding in the config (e.g. tf.keras 2 stores constants differently): the caller's, if any.
        }
      }
      if (pos == null) {
        throw new IllegalArgumentException(where + ": the position embedding is not in this file; give it with "
            + "--pos-embedding FILE.npy");
      }
      weights.put(WeightSet.POSITION_EMBEDDING, pos);
      if (config == null) {
        config = ConfigInference.fromKerasPaths(weights, where);
      }
      WeightCheck.validate(weights, config, where);
      return new LoadedModel(ModelFormat.LEGACY_H5, file, config, weights);
    } catch (IllegalStateException | UnsupportedOperationException | ClassCastException | NullPointerException
        | NumberFormatException e) {
      throw new IllegalArgumentException(where + ": malformed model_config attribute (" + e.getMessage() + ")", e);
    } catch (io.jhdf.exceptions.HdfException e) {
      throw new IllegalArgumentException(where + ": unreadable HDF5 (truncated or damaged?): " + e.getMessage(), e);
    }
  }
}
