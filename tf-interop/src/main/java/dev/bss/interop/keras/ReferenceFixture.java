package dev.bss.interop.keras;

import com.google.gson.Gson;
import com.google.gson.JsonSyntaxException;
import dev.bss.interop.numpy.Npy;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Node;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One Keras reference fixture folder (layout of {@code shared/keras-reference/<name>/}, made by
 * {@code seed_reference.py}): the weights of {@code reference.weights.h5} mapped through {@code variables.json} to
 * Keras paths, the frozen {@code pos_embedding.npy}, the inputs, Keras's expected outputs and per-layer activations.
 *
 * <p>This reads {@code reference.weights.h5} only through the fixture's own mapping; a general importer of Keras
 * files computes that mapping from the model instead.
 */
public final class ReferenceFixture {

  /**
   * One entry of {@code variables.json}.
   *
   * @param layer Keras layer name, e.g. {@code dense_8}
   * @param layerClass Keras class, e.g. {@code Dense}
   * @param path Keras variable path, e.g. {@code dense_8/kernel}
   * @param shape Keras shape
   * @param trainable Keras trainable flag
   * @param weightsH5 dataset path in {@code reference.weights.h5}, e.g. {@code layers/dense_9/vars/0}
   */
  public record VariableEntry(String layer, String layerClass, String path, long[] shape, boolean trainable,
      String weightsH5) {}

  private final Path dir;
  private final ModelConfig config;
  private final long parameters;
  private final String kerasVersion;
  private final List<VariableEntry> variables;
  private final WeightSet weights;

  private ReferenceFixture(Path dir, ModelConfig config, long parameters, String kerasVersion,
      List<VariableEntry> variables, WeightSet weights) {
    this.dir = dir;
    this.config = config;
    this.parameters = parameters;
    this.kerasVersion = kerasVersion;
    this.variables = variables;
    this.weights = weights;
  }

  /**
   * Loads {@code variables.json}, every weight of {@code reference.weights.h5} it names, and {@code pos_embedding.npy}.
   *
   * @throws IllegalArgumentException naming the file when something is missing, malformed or of the wrong shape
   */
  public static ReferenceFixture load(Path dir) {
    Path json = dir.resolve("variables.json");
    Path h5 = dir.resolve("reference.weights.h5");
    for (Path p : List.of(json, h5, dir.resolve("pos_embedding.npy"))) {
      if (!Files.isRegularFile(p)) {
        throw new IllegalArgumentException("Keras reference fixture " + dir + ": missing " + p.getFileName());
      }
    }
    Map<?, ?> root;
    try (Reader r = Files.newBufferedReader(json)) {
      root = new Gson().fromJson(r, Map.class);
    } catch (IOException | JsonSyntaxException e) {
      throw new IllegalArgumentException(json + ": not readable JSON (" + e.getMessage() + ")", e);
    }
    if (root == null || !(root.get("variables") instanceof List<?> list) || !(root.get("config") instanceof Map<?, ?>)) {
      throw new IllegalArgumentException(json + ": expected an object with 'config' and 'variables'");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> configMap = (Map<String, Object>) root.get("config");
    ModelConfig config = ModelConfig.fromMap(configMap);
    List<VariableEntry> entries = new ArrayList<>();
    for (Object o : list) {
      Map<?, ?> m = (Map<?, ?>) o;
      List<?> shapeList = (List<?>) m.get("shape");
      long[] shape = shapeList.stream().mapToLong(d -> ((Number) d).longValue()).toArray();
      entries.add(new VariableEntry((String) m.get("layer"), (String) m.get("class"), (String) m.get("path"), shape,
          Boolean.TRUE.equals(m.get("trainable")), (String) m.get("weights_h5")));
    }
    WeightSet weights = new WeightSet();
    List<String> problems = new ArrayList<>();
    try (HdfFile file = new HdfFile(h5)) {
      for (VariableEntry e : entries) {
        Node node;
        try {
          node = file.getByPath(e.weightsH5());
        } catch (RuntimeException notFound) {
          problems.add(e.path() + ": no dataset " + e.weightsH5());
          continue;
        }
        if (!(node instanceof Dataset ds)) {
          problems.add(e.path() + ": " + e.weightsH5() + " is not a dataset");
          continue;
        }
        long[] found = ds.getDimensionsAsLong();
        if (!Arrays.equals(found, e.shape())) {
          problems.add(e.path() + ": " + e.weightsH5() + " has shape " + Arrays.toString(found) + ", variables.json says "
              + Arrays.toString(e.shape()));
          continue;
        }
        weights.put(e.path(), new Weight(e.shape(), toFloats(ds.getDataFlat(), e.weightsH5())));
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(h5 + ": " + String.join("; ", problems));
    }
    weights.put(WeightSet.POSITION_EMBEDDING, Npy.readFloats(dir.resolve("pos_embedding.npy")));
    long params = root.get("params") instanceof Number n ? n.longValue() : -1;
    String version = root.get("keras_version") instanceof String s ? s : "unknown";
    return new ReferenceFixture(dir, config, params, version, List.copyOf(entries), weights);
  }

  private static float[] toFloats(Object flat, String where) {
    if (flat instanceof float[] f) {
      return f;
    }
    if (flat instanceof double[] d) {
      float[] f = new float[d.length];
      for (int i = 0; i < d.length; i++) {
        f[i] = (float) d[i];
      }
      return f;
    }
    throw new IllegalArgumentException(where + ": expected float32 data, found "
        + (flat == null ? "nothing" : flat.getClass().getSimpleName()));
  }

  /** The fixture folder. */
  public Path dir() {
    return dir;
  }

  /** The network's config as {@code variables.json} records it. */
  public ModelConfig config() {
    return config;
  }

  /** Keras's {@code model.count_params()} as recorded. */
  public long parameters() {
    return parameters;
  }

  public String kerasVersion() {
    return kerasVersion;
  }

  /** The entries of {@code variables.json}, in its order ({@code model.layers} order). */
  public List<VariableEntry> variables() {
    return variables;
  }

  /** Every Keras weight by Keras path, plus {@link WeightSet#POSITION_EMBEDDING}. */
  public WeightSet weights() {
    return weights;
  }

  /** {@code inputs.npy}: {@code [n, 32, 32, 1]} mixtures. */
  public Weight inputs() {
    return Npy.readFloats(dir.resolve("inputs.npy"));
  }

  /** {@code expected_decoded1.npy} or {@code expected_decoded2.npy}: Keras's outputs for {@link #inputs()}. */
  public Weight expected(String head) {
    return Npy.readFloats(dir.resolve("expected_" + head + ".npy"));
  }

  /** Names of the layers with a recorded activation ({@code activations/<name>.npy}), sorted. */
  public List<String> activationNames() {
    Path folder = dir.resolve("activations");
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(folder)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".npy"))
          .map(n -> n.substring(0, n.length() - 4)).sorted().toList();
    } catch (IOException e) {
      throw new IllegalArgumentException(folder + ": cannot list (" + e.getMessage() + ")", e);
    }
  }

  /** {@code activations/<layer>.npy}: the layer's Keras output for the first inputs. */
  public Weight activation(String layer) {
    return Npy.readFloats(dir.resolve("activations").resolve(layer + ".npy"));
  }
}
