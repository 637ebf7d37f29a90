package dev.bss.interop.savedmodel;

import dev.bss.interop.LoadedModel;
import dev.bss.model.keras.KerasGraph;
import dev.bss.model.keras.ReferenceGraph;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bss.interop.Fixtures;
import dev.bss.interop.ModelFiles;
import dev.bss.model.ModelConfig;
import dev.bss.model.ModelVariable;
import dev.bss.model.SeparationModel;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;

/**
 * Reading a Keras-made SavedModel's variables, and mapping both Keras key styles (tf.keras 2 {@code model.save},
 * Keras 3 {@code model.export}) to the reference network's Keras paths.
 */
class SavedModelVariablesTest {

  private static final String SUFFIX = SavedModelVariables.VALUE_SUFFIX;

  /** The tiny network's Keras weights (model.weights order) with shapes, from the model helper's graph. */
  private static Map<String, long[]> tinyWeights;
  private static WeightSet tinyValues;

  @BeforeAll
  static void buildTiny() {
    try (Graph g = new Graph()) {
      SeparationModel model = SeparationModel.build(Ops.create(g), ModelConfig.tiny());
      Map<String, List<ModelVariable>> byLayer = new LinkedHashMap<>();
      for (ModelVariable v : model.variables().all()) {
        if (v.kerasWeight()) {
          byLayer.computeIfAbsent(v.layerName(), k -> new ArrayList<>()).add(v);
        }
      }
      tinyWeights = new LinkedHashMap<>();
      for (String layer : ReferenceGraph.of(ModelConfig.tiny()).modelLayers().stream().map(KerasGraph.Layer::name)
          .toList()) {
        for (ModelVariable v : byLayer.getOrDefault(layer, List.of())) {
          tinyWeights.put(v.path(), v.shape());
        }
      }
      tinyValues = model.variables().initialValues(7);
    }
  }

  /** The order the mapping assumes is model.weights order: Keras's model.layers order + creation order. */
  @Test
  void kerasWeightOrderIsTheModelsKerasOrder() {
    assertEquals(List.copyOf(tinyWeights.keySet()),
        SavedModelVariables.kerasWeightOrder(ModelConfig.tiny().numBlocks()));
  }

  /** ...and the fixture's variables.json, which Keras wrote in model.weights order. */
  @Test
  void kerasWeightOrderMatchesKerasVariablesJson() throws Exception {
    Path dir = Fixtures.kerasReference("tiny");
    JsonObject o = JsonParser.parseString(Files.readString(dir.resolve("variables.json"))).getAsJsonObject();
    List<String> paths = new ArrayList<>();
    for (JsonElement e : o.getAsJsonArray("variables")) {
      paths.add(e.getAsJsonObject().get("path").getAsString());
    }
    assertEquals(paths, SavedModelVariables.kerasWeightOrder(o.getAsJsonObject("config").get("num_blocks").getAsInt()));
  }

  @Test
  void readsEveryVariableOfTheFashionAutoencoder() {
    Path dir = Fixtures.savedModel("fashion_autoencoder");
    List<SavedModelVariables.Variable> vars = SavedModelVariables.list(dir);
    Map<String, SavedModelVariables.Variable> byKey = vars.stream()
        .collect(Collectors.toMap(SavedModelVariables.Variable::key, v -> v));
    // Encoder Conv2D 32/64/128 3x3 and Dense(2) on 4*4*128; the nested decoder's weights under variables/<k>.
    Map<String, long[]> expected = new LinkedHashMap<>();
    expected.put("layer_with_weights-0/kernel", new long[] {3, 3, 1, 32});
    expected.put("layer_with_weights-0/bias", new long[] {32});
    expected.put("layer_with_weights-1/kernel", new long[] {3, 3, 32, 64});
    expected.put("layer_with_weights-2/kernel", new long[] {3, 3, 64, 128});
    expected.put("layer_with_weights-3/kernel", new long[] {2048, 2});
    expected.put("variables/8", new long[] {2, 2048});
    expected.put("variables/10", new long[] {3, 3, 128, 128});
    expected.put("variables/12", new long[] {3, 3, 64, 128});
    expected.put("variables/14", new long[] {3, 3, 32, 64});
    expected.put("variables/16", new long[] {3, 3, 32, 1});
    expected.put("variables/17", new long[] {1});
    expected.forEach((path, shape) -> {
      SavedModelVariables.Variable v = byKey.get(path + SUFFIX);
      assertNotNull(v, path + SUFFIX + " among " + byKey.keySet());
      assertArrayEquals(shape, v.shape(), path);
      assertEquals(DataType.DT_FLOAT, v.dtype(), path);
    });
    long modelParams = vars.stream().filter(v -> v.path().startsWith("layer_with_weights-")
        || v.path().startsWith("variables/")).mapToLong(v -> size(v.shape())).sum();
    // conv 320 + 18496 + 73856, dense 4098, dense 6144, convT 147584 + 73792 + 18464, conv 289.
    assertEquals(320 + 18496 + 73856 + 4098 + 6144 + 147584 + 73792 + 18464 + 289, modelParams);

    List<String> floats = vars.stream().filter(v -> v.dtype() == DataType.DT_FLOAT)
        .map(SavedModelVariables.Variable::key).toList();
    Map<String, Weight> values = SavedModelVariables.readFloats(dir, floats);
    assertEquals(floats, List.copyOf(values.keySet()));
    values.forEach((key, w) -> {
      assertArrayEquals(byKey.get(key).shape(), w.shape(), key);
      assertTrue(w.firstNonFinite() < 0, key + " is finite");
    });
    float[] kernel = values.get("layer_with_weights-0/kernel" + SUFFIX).data();
    assertTrue(maxAbs(kernel) > 0.01, "trained conv kernel is not all zeros");
  }

  /** TensorFlow's breadth-first key rule reproduces the keys the checkpoint records, for both fixtures. */
  @Test
  void breadthFirstKeysEqualTheCheckpointsKeys() {
    for (String name : List.of("fashion_autoencoder", "fashion_vae_encoder")) {
      Path dir = Fixtures.savedModel(name);
      var graph = SavedModelVariables.objectGraph(dir);
      List<String> recorded = SavedModelVariables.checkpointKeys(dir, graph.getNodesCount());
      assertNotNull(recorded, name + ": checkpoint object graph");
      List<String> bfs = SavedModelVariables.breadthFirstKeys(graph);
      int variables = 0;
      for (int i = 0; i < graph.getNodesCount(); i++) {
        if (graph.getNodes(i).hasVariable()) {
          assertEquals(recorded.get(i), bfs.get(i), name + " node " + i);
          variables++;
        }
      }
      assertTrue(variables > 0, name + " has variables");
    }
  }

  @Test
  void keras3ExportKeysMapToKerasPaths() {
    List<String> paths = List.copyOf(tinyWeights.keySet());
    List<SavedModelVariables.Variable> vars = new ArrayList<>();
    Map<String, String> expected = new LinkedHashMap<>();
    int k = 0;
    for (int i = 0; i < paths.size(); i++) {
      if (i == 3 || i == 60 || i == 61) {
        // Dropout seed states sit in model.variables between the weights.
        vars.add(new SavedModelVariables.Variable("variables/" + k++ + SUFFIX, DataType.DT_INT64, new long[] {2}));
      }
      String key = "variables/" + k++ + SUFFIX;
      vars.add(new SavedModelVariables.Variable(key, DataType.DT_FLOAT, tinyWeights.get(paths.get(i))));
      expected.put(key, paths.get(i));
    }
    assertEquals(expected, SavedModelVariables.kerasPaths(vars, "test"));
  }

  @Test
  void tfKeras2SaveKeysMapToKerasPaths() {
    for (boolean nestedMha : List.of(false, true)) {
      List<SavedModelVariables.Variable> vars = tfKeras2Keys(nestedMha);
      Map<String, String> expected = new LinkedHashMap<>();
      List<String> paths = List.copyOf(tinyWeights.keySet());
      for (int i = 0; i < paths.size(); i++) {
        expected.put(vars.get(i).key(), paths.get(i));
      }
      Map<String, String> mapped = SavedModelVariables.kerasPaths(vars, "test");
      assertEquals(expected, mapped, "nested MHA keys: " + nestedMha);
      assertTrue(vars.stream().anyMatch(v -> v.path().equals("layer_with_weights-0/kernel")));
    }
  }

  @Test
  void mappedWeightsGiveTheConfigAndTheWeights() {
    List<SavedModelVariables.Variable> vars = tfKeras2Keys(false);
    Map<String, String> mapped = SavedModelVariables.kerasPaths(vars, "test");
    Map<String, Weight> values = new LinkedHashMap<>();
    mapped.forEach((key, path) -> values.put(key, tinyValues.get(path)));
    LoadedModel k = SavedModelVariables.assemble(mapped, values, null,
        tinyValues.get(WeightSet.POSITION_EMBEDDING), Path.of("test"));
    assertEquals(ModelConfig.tiny(), k.config());
    assertEquals(tinyValues.paths(), k.weights().paths());
    for (String path : tinyValues.paths()) {
      assertEquals(tinyValues.get(path), k.weights().get(path), path);
    }
  }

  @Test
  void missingPositionEmbeddingIsAskedFor() {
    Map<String, String> mapped = SavedModelVariables.kerasPaths(tfKeras2Keys(false), "test");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SavedModelVariables.assemble(mapped, Map.of(), null, null, Path.of("x")));
    assertTrue(e.getMessage().startsWith("SavedModel x: ") && e.getMessage().contains("--pos-embedding"),
        e.getMessage());
  }

  @Test
  void misShapedWeightsAreAllListedInOneMessage() {
    Map<String, String> mapped = SavedModelVariables.kerasPaths(tfKeras2Keys(false), "test");
    Map<String, Weight> values = new LinkedHashMap<>();
    mapped.forEach((key, path) -> values.put(key, tinyValues.get(path)));
    String bias = "layer_with_weights-0/bias" + SUFFIX;
    values.put(bias, new Weight(new long[] {7}, new float[7]));
    String gamma = keyOf(mapped, "layer_normalization/gamma");
    values.put(gamma, new Weight(new long[] {2, 12}, new float[24]));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SavedModelVariables.assemble(
        mapped, values, ModelConfig.tiny(), tinyValues.get(WeightSet.POSITION_EMBEDDING), Path.of("x")));
    String m = e.getMessage();
    assertTrue(m.startsWith("SavedModel x: ") && m.contains("2 wrong"), m);
    assertTrue(m.contains("conv2d/bias: expected [8], found [7]"), m);
    assertTrue(m.contains("layer_normalization/gamma: expected [24], found [2, 12]"), m);
    assertFalse(m.contains("\n"), m);
  }

  @Test
  void unmappableKeysAndMissingWeightsAreAllListedInOneMessage() {
    List<SavedModelVariables.Variable> vars = new ArrayList<>(tfKeras2Keys(false));
    // Two misnamed variables: neither maps, and the two weights they should have given are missing.
    vars.set(0, rename(vars.get(0), "layer_with_weights-0/kernal"));
    vars.set(1, rename(vars.get(1), "layer_with_weights-999/bias"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SavedModelVariables.kerasPaths(vars, "SavedModel x"));
    String m = e.getMessage();
    assertTrue(m.startsWith("SavedModel x: ") && m.contains("4 problem(s)"), m);
    assertTrue(m.contains("layer_with_weights-0/kernal maps to no Keras weight"), m);
    assertTrue(m.contains("layer_with_weights-999/bias maps to no Keras weight"), m);
    assertTrue(m.contains("conv2d/kernel missing") && m.contains("conv2d/bias missing"), m);
  }

  @Test
  void aVariableCountOfAnotherNetworkIsAnotherArchitecture() {
    List<SavedModelVariables.Variable> vars = new ArrayList<>(tfKeras2Keys(false));
    vars.remove(5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SavedModelVariables.kerasPaths(vars, "SavedModel x"));
    assertTrue(e.getMessage().contains("another architecture"), e.getMessage());
  }

  @Test
  void importingTheFashionAutoencoderNamesAnotherArchitecture() {
    Path dir = Fixtures.savedModel("fashion_autoencoder");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(dir));
    String m = e.getMessage();
    System.out.println("fashion_autoencoder import: " + m);
    assertTrue(m.startsWith("SavedModel " + dir + ": ") && m.contains("another architecture")
        && m.contains("18 model variables"), m);
    assertFalse(m.contains("\n"), m);
    Path vae = Fixtures.savedModel("fashion_vae_encoder");
    String v = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(vae)).getMessage();
    assertTrue(v.startsWith("SavedModel " + vae + ": ") && v.contains("another architecture")
        && v.contains("10 model variables"), v);
  }

  /**
   * The keys tf.keras 2 gives the tiny network: {@code layer_with_weights-<i>/<var>} for a layer's own variables,
   * MHA sublayer variables either as {@code variables/<k>} (breadth-first, as TF names them) or nested
   * {@code layer_with_weights-<i>/_query_dense/kernel}; plus optimizer and metric variables that are ignored.
   */
  private static List<SavedModelVariables.Variable> tfKeras2Keys(boolean nestedMha) {
    List<SavedModelVariables.Variable> vars = new ArrayList<>();
    List<String> layers = new ArrayList<>();
    int k = 0;
    for (Map.Entry<String, long[]> e : tinyWeights.entrySet()) {
      String layer = e.getKey().substring(0, e.getKey().indexOf('/'));
      if (!layers.contains(layer)) {
        layers.add(layer);
      }
      String local = e.getKey().substring(layer.length() + 1);
      String path = "layer_with_weights-" + layers.indexOf(layer) + "/" + local;
      if (local.contains("/")) {
        String sub = local.substring(0, local.indexOf('/'));
        path = nestedMha ? "layer_with_weights-" + layers.indexOf(layer) + "/"
            + (sub.equals("attention_output") ? "_output_dense" : "_" + sub + "_dense") + local.substring(sub.length())
            : "variables/" + k;
      }
      vars.add(new SavedModelVariables.Variable(path + SUFFIX, DataType.DT_FLOAT, e.getValue()));
      k++;
    }
    vars.add(new SavedModelVariables.Variable("optimizer/_iterations" + SUFFIX, DataType.DT_INT64, new long[0]));
    vars.add(new SavedModelVariables.Variable("optimizer/_variables/1" + SUFFIX, DataType.DT_FLOAT, new long[] {3}));
    vars.add(new SavedModelVariables.Variable("keras_api/metrics/0/total" + SUFFIX, DataType.DT_FLOAT, new long[0]));
    return vars;
  }

  private static SavedModelVariables.Variable rename(SavedModelVariables.Variable v, String path) {
    return new SavedModelVariables.Variable(path + SUFFIX, v.dtype(), v.shape());
  }

  private static String keyOf(Map<String, String> mapped, String path) {
    Set<String> keys = mapped.entrySet().stream().filter(e -> e.getValue().equals(path)).map(Map.Entry::getKey)
        .collect(Collectors.toSet());
    assertEquals(1, keys.size(), path);
    return keys.iterator().next();
  }

  private static long size(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  private static double maxAbs(float[] a) {
    double m = 0;
    for (float x : a) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }
}
