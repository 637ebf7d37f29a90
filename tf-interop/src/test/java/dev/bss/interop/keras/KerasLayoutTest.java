package dev.bss.interop.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
  void snakeCaseFollowsKeras() {
    assertEquals("conv2d_transpose", KerasGraph.snakeCase("Conv2DTranspose"));
    assertEquals("global_average_pooling2d", KerasGraph.snakeCase("GlobalAveragePooling2D"));
    assertEquals("multi_head_attention", KerasGraph.snakeCase("MultiHeadAttention"));
    assertEquals("input_layer", KerasGraph.snakeCase("InputLayer"));
    assertEquals("conv2d", KerasGraph.snakeCase("Conv2D"));
  }
}
