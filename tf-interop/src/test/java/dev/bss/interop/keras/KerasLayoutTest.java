package dev.bss.interop.keras;

import dev.bss.model.keras.ReferenceGraph;
import dev.bss.model.keras.KerasGraph;
import dev.bss.model.SeparationModel;
import dev.bss.model.WeightSet;
import java.util.HashSet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bss.interop.Fixtures;
import dev.bss.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The computed model.layers order and .weights.h5 paths match what Keras wrote for both fixtures. */
class KerasLayoutTest {

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "full"})
  void everyVariableMapsToTheDatasetKerasWrote(String fixture) throws IOException {
    Path dir = Fixtures.kerasReference(fixture);
    JsonObject manifest = JsonParser.parseString(Files.readString(dir.resolve("variables.json"))).getAsJsonObject();
    ModelConfig config = ModelConfig.fromMap(KerasJson.toJava(manifest.getAsJsonObject("config")));
    Map<String, String> expected = new LinkedHashMap<>();
    for (JsonElement v : manifest.getAsJsonArray("variables")) {
      JsonObject o = v.getAsJsonObject();
      expected.put(o.get("path").getAsString(), o.get("weights_h5").getAsString());
    }
    WeightsH5Layout layout = WeightsH5Layout.of(ReferenceGraph.of(config));
    // Same variables, same order (variables.json lists them in model.layers order), same dataset paths.
    assertEquals(new ArrayList<>(expected.entrySet()), new ArrayList<>(layout.byKerasPath().entrySet()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "full"})
  void operationOrderIsTheConfigJsonOrder(String fixture) throws IOException {
    Path dir = Fixtures.kerasReference(fixture);
    JsonObject config = KerasArchive.readConfigJson(dir.resolve("reference.keras"));
    List<String> expected = new ArrayList<>();
    for (JsonElement l : config.getAsJsonObject("config").getAsJsonArray("layers")) {
      expected.add(l.getAsJsonObject().get("name").getAsString());
    }
    JsonObject manifest = JsonParser.parseString(Files.readString(dir.resolve("variables.json"))).getAsJsonObject();
    ModelConfig modelConfig = ModelConfig.fromMap(KerasJson.toJava(manifest.getAsJsonObject("config")));
    List<String> actual = ReferenceGraph.of(modelConfig).operationOrder().stream().map(KerasGraph.Layer::name).toList();
    assertEquals(expected, actual);
  }

  @Test
  void weightsH5LayoutFollowsModelLayersOrder() {
    KerasGraph seed = ReferenceGraph.of(ModelConfig.seed());
    Map<String, String> h5 = WeightsH5Layout.of(seed).byKerasPath();
    assertEquals("layers/dense_9/vars/0", h5.get("dense_8/kernel"), "SPEC: dense_8 is stored as layers/dense_9");
    assertEquals("layers/multi_head_attention/query_dense/vars/1", h5.get("multi_head_attention/query/bias"));
    assertEquals("layers/multi_head_attention/output_dense/vars/0", h5.get("multi_head_attention/attention_output/kernel"));
    assertEquals("layers/batch_normalization_1/vars/3", h5.get("batch_normalization_8/moving_variance"));
    assertEquals("layers/conv2d_20/vars/0", h5.get("decoded1/kernel"));
    assertFalse(h5.containsKey(WeightSet.POSITION_EMBEDDING));
    assertEquals(h5.size(), new HashSet<>(h5.values()).size());
    List<String> order = seed.modelLayers().stream().map(KerasGraph.Layer::name).toList();
    assertEquals("input_img", order.get(0));
    assertEquals(186, order.size());
    assertFalse(order.contains(SeparationModel.POSITION_ADD));
  }

  @Test
  void snakeCaseFollowsKeras() {
    assertEquals("conv2d_transpose", KerasGraph.snakeCase("Conv2DTranspose"));
    assertEquals("global_average_pooling2d", KerasGraph.snakeCase("GlobalAveragePooling2D"));
    assertEquals("multi_head_attention", KerasGraph.snakeCase("MultiHeadAttention"));
    assertEquals("input_layer", KerasGraph.snakeCase("InputLayer"));
    assertEquals("conv2d", KerasGraph.snakeCase("Conv2D"));
  }
}
