package dev.bss.interop.keras;

import dev.bss.model.keras.KerasGraph;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bss.model.keras.KerasGraph.ArgStyle;
import dev.bss.model.keras.KerasGraph.Call;
import dev.bss.model.keras.KerasGraph.Layer;
import dev.bss.model.keras.KerasGraph.TensorRef;
import dev.bss.model.Weight;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes the {@code config.json} of a {@code .keras} archive for the reference network, so that Keras 3's
 * {@code keras.saving.load_model(path, safe_mode=False)} rebuilds it.
 *
 * <p>Every layer entry starts from a template: the resource {@code reference-layer-templates.json}, which holds
 * one layer entry per kind (Conv2D, the CBAM Dense pair, MultiHeadAttention, the two Lambda layers, ...) copied
 * from the {@code config.json} Keras 3.15.1 wrote for {@code shared/keras-reference/tiny/reference.keras} (see
 * {@code reference-layer-templates.md}). The writer substitutes the name, the widths of the {@code ModelConfig}
 * (filters, units, heads, key_dim, target_shape, epsilon, rate), and computes {@code build_config} and
 * {@code inbound_nodes} from the {@link KerasGraph}; layers are listed in Keras's operation order. The position
 * embedding is written where Keras keeps it: as the {@code __tensor__} argument of the {@code add} node.
 *
 * <p>The Lambda layers (CBAM channel mean and max) carry Python bytecode from the template, as the notebook's model
 * does: Python needs {@code safe_mode=False} and the bytecode's Python minor version (3.11) to load them.
 */
public final class KerasConfigJson {

  /** Classes whose config entry has a {@code build_config} (the others are built without shapes). */
  private static final Set<String> BUILT_WITH_SHAPE = Set.of("Conv2D", "Conv2DTranspose", "Dense", "Add",
      "LayerNormalization", "MultiHeadAttention", "BatchNormalization", "Concatenate", "Multiply", "Lambda");

  private static final String TEMPLATES = "reference-layer-templates.json";

  private KerasConfigJson() {}

  /** The template resource: {@code {"model": ..., "layers": {key: layer entry}}}. */
  static JsonObject templates() {
    try (InputStream in = KerasConfigJson.class.getResourceAsStream(TEMPLATES)) {
      if (in == null) {
        throw new IllegalStateException("resource " + TEMPLATES + " missing from tf-interop");
      }
      return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The full {@code config.json} tree of the graph.
   *
   * @param positionEmbedding {@code [1, 16, embed_dim]}, written into the {@code add} node
   */
  public static JsonObject of(KerasGraph graph, Weight positionEmbedding, String modelName) {
    JsonObject templates = templates();
    JsonObject layerTemplates = templates.getAsJsonObject("layers");
    JsonArray layers = new JsonArray();
    boolean firstPolicy = true;
    for (Layer layer : graph.operationOrder()) {
      JsonObject template = layerTemplates.getAsJsonObject(layer.template());
      if (template == null) {
        throw new IllegalStateException("no config template for " + layer.template());
      }
      JsonObject config = template.getAsJsonObject("config").deepCopy();
      config.addProperty("name", layer.name());
      for (Map.Entry<String, Object> s : layer.settings().entrySet()) {
        if (!s.getKey().startsWith("_")) {
          config.add(s.getKey(), KerasJson.toJson(s.getValue()));
        }
      }
      if (config.get("dtype") instanceof JsonObject policy) {
        // Keras leaves the id off the first layer's dtype policy and sets it on every later one.
        if (firstPolicy) {
          policy.remove("shared_object_id");
        }
        firstPolicy = false;
      }
      JsonObject entry = new JsonObject();
      entry.add("module", template.get("module"));
      entry.add("class_name", template.get("class_name"));
      entry.add("config", config);
      entry.add("registered_name", template.get("registered_name"));
      if (!layer.isOperation() && BUILT_WITH_SHAPE.contains(layer.className())) {
        entry.add("build_config", buildConfig(layer));
      }
      entry.addProperty("name", layer.name());
      JsonArray nodes = new JsonArray();
      for (Call call : layer.className().equals("InputLayer") ? List.<Call>of() : layer.calls()) {
        nodes.add(node(graph, layer, call, positionEmbedding));
      }
      entry.add("inbound_nodes", nodes);
      layers.add(entry);
    }
    JsonObject model = templates.getAsJsonObject("model");
    JsonObject functional = new JsonObject();
    functional.addProperty("name", modelName);
    functional.add("trainable", model.getAsJsonObject("config").get("trainable"));
    functional.add("layers", layers);
    functional.add("input_layers", endpoints(graph.inputs()));
    functional.add("output_layers", endpoints(graph.outputs()));
    JsonObject root = new JsonObject();
    root.add("module", model.get("module"));
    root.add("class_name", model.get("class_name"));
    root.add("config", functional);
    root.add("registered_name", model.get("registered_name"));
    root.add("build_config", model.get("build_config"));
    root.add("compile_config", model.get("compile_config"));
    return root;
  }

  private static JsonElement endpoints(List<TensorRef> refs) {
    JsonArray list = new JsonArray();
    for (TensorRef r : refs) {
      list.add(history(r));
    }
    // Keras writes a single input or output unnested: ["input_img", 0, 0].
    return refs.size() == 1 ? list.get(0) : list;
  }

  private static JsonObject buildConfig(Layer layer) {
    Call first = layer.calls().get(0);
    JsonObject build = new JsonObject();
    if (first.style() == ArgStyle.PAIR) {
      JsonObject shapes = new JsonObject();
      shapes.add("query_shape", batchShape(first.inputs().get(0).shape()));
      shapes.add("value_shape", batchShape(first.inputs().get(1).shape()));
      build.add("shapes_dict", shapes);
    } else if (first.style() == ArgStyle.LIST) {
      JsonArray shapes = new JsonArray();
      for (TensorRef in : first.inputs()) {
        shapes.add(batchShape(in.shape()));
      }
      build.add("input_shape", shapes);
    } else {
      build.add("input_shape", batchShape(first.inputs().get(0).shape()));
    }
    return build;
  }

  private static JsonObject node(KerasGraph graph, Layer layer, Call call, Weight positionEmbedding) {
    JsonArray args = new JsonArray();
    switch (call.style()) {
      case SINGLE, PAIR -> call.inputs().forEach(t -> args.add(kerasTensor(t)));
      case LIST -> {
        JsonArray list = new JsonArray();
        call.inputs().forEach(t -> list.add(kerasTensor(t)));
        args.add(list);
      }
      case CONSTANT_ADD -> {
        args.add(kerasTensor(call.inputs().get(0)));
        args.add(tensorValue(positionEmbedding));
      }
      default -> throw new IllegalStateException(call.style().toString());
    }
    JsonObject kwargs = new JsonObject();
    switch (layer.className()) {
      case "Dropout" -> kwargs.addProperty("training", false);
      case "BatchNormalization", "Lambda" -> kwargs.add("mask", JsonNull.INSTANCE);
      default -> { }
    }
    JsonObject node = new JsonObject();
    node.add("args", args);
    node.add("kwargs", kwargs);
    return node;
  }

  private static JsonObject kerasTensor(TensorRef t) {
    JsonObject config = new JsonObject();
    config.add("shape", batchShape(t.shape()));
    config.addProperty("dtype", "float32");
    config.add("keras_history", history(t));
    JsonObject o = new JsonObject();
    o.addProperty("class_name", "__keras_tensor__");
    o.add("config", config);
    return o;
  }

  private static JsonArray history(TensorRef t) {
    JsonArray h = new JsonArray();
    h.add(t.layer());
    h.add(t.nodeIndex());
    h.add(0);
    return h;
  }

  private static JsonArray batchShape(long[] shape) {
    JsonArray a = new JsonArray();
    a.add(JsonNull.INSTANCE);
    for (long d : shape) {
      a.add(d);
    }
    return a;
  }

  /** {@code {"class_name": "__tensor__", "config": {"value": nested lists, "dtype": "float32"}}}. */
  static JsonObject tensorValue(Weight w) {
    JsonObject config = new JsonObject();
    config.add("value", nested(w.data(), w.shape(), 0, 0));
    config.addProperty("dtype", "float32");
    JsonObject o = new JsonObject();
    o.addProperty("class_name", "__tensor__");
    o.add("config", config);
    return o;
  }

  private static JsonElement nested(float[] data, long[] shape, int axis, int offset) {
    JsonArray a = new JsonArray();
    int stride = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      stride *= (int) shape[i];
    }
    for (int i = 0; i < shape[axis]; i++) {
      if (axis == shape.length - 1) {
        a.add((double) data[offset + i]);
      } else {
        a.add(nested(data, shape, axis + 1, offset + i * stride));
      }
    }
    return a;
  }
}
