package dev.bss.model.keras;

import dev.bss.model.keras.KerasGraph.ArgStyle;
import dev.bss.model.keras.KerasGraph.Layer;
import dev.bss.model.keras.KerasGraph.TensorRef;
import dev.bss.model.ModelConfig;
import dev.bss.model.WeightSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@link KerasGraph} of the reference network ({@code Model2_UNet_Autoencoder_Transformer}) for a
 * {@link ModelConfig}, creating layers in the notebook's order so that they get Keras's auto names.
 *
 * <p>Keras names a layer {@code <snake_case class>} the first time and {@code <prefix>_<n>} after, counting per
 * prefix over the whole session: the bare {@code x + pos_embedding} operation takes {@code add}, and each
 * MultiHeadAttention takes one {@code softmax} and one {@code dropout} name for its internal layers when it is first
 * called (so the first block's Dropout is {@code dropout_1}). Checked against both Keras fixtures' config.json.
 */
public final class ReferenceGraph {

  /** The Keras model name of the reference notebook. */
  public static final String MODEL_NAME = "Model2_UNet_Autoencoder_Transformer";

  private final KerasGraph graph = new KerasGraph();
  private final Map<String, Integer> uids = new HashMap<>();
  private final ModelConfig config;

  private ReferenceGraph(ModelConfig config) {
    this.config = config;
  }

  /** The Keras graph of the reference network with {@code config}'s widths. */
  public static KerasGraph of(ModelConfig config) {
    ReferenceGraph b = new ReferenceGraph(config);
    b.build();
    return b.graph;
  }

  private void build() {
    int[] f = config.filters();
    int emb = config.embedDim();
    Layer inputLayer = graph.add("input_img", "InputLayer", "InputLayer", false, Map.of());
    TensorRef input = graph.call(inputLayer, List.of(), ArgStyle.SINGLE, shape(32, 32, 1));
    graph.addInput(input);
    TensorRef e1 = conv(input, f[0], "Conv2D", 1);
    graph.role("encoder.conv1", e1.layer());
    e1 = conv(e1, f[0], "Conv2D", 1);
    TensorRef p1 = maxPool(e1);
    TensorRef e2 = conv(p1, f[1], "Conv2D", 1);
    graph.role("encoder.conv3", e2.layer());
    e2 = conv(e2, f[1], "Conv2D", 1);
    TensorRef p2 = maxPool(e2);
    TensorRef e3 = conv(p2, f[2], "Conv2D", 1);
    graph.role("encoder.conv5", e3.layer());
    e3 = conv(e3, f[2], "Conv2D", 1);
    TensorRef encoded = maxPool(e3);
    TensorRef x = reshape(encoded, ModelConfig.TOKENS, f[2]);
    x = dense(x, emb, "Dense");
    graph.role("bottleneck.dense", x.layer());
    Layer posAdd = graph.add(name("add"), "Add", "Add.op", true, Map.of());
    x = graph.call(posAdd, List.of(x), ArgStyle.CONSTANT_ADD, x.shape());
    graph.role("bottleneck.pos_embedding", posAdd.name());
    for (int i = 0; i < config.numBlocks(); i++) {
      x = transformerBlock(x, config.numHeads(), emb, config.ffDim(), "bottleneck." + i);
    }
    TensorRef encodedTrans = reshape(x, 4, 4, emb);
    graph.addOutput(decoder(encodedTrans, e1, e2, e3, "decoded1"));
    graph.addOutput(decoder(encodedTrans, e1, e2, e3, "decoded2"));
  }

  private TensorRef transformerBlock(TensorRef inputs, int heads, int embed, int ff, String role) {
    TensorRef norm1 = layerNorm(inputs);
    Layer mha = graph.add(name("multi_head_attention"), "MultiHeadAttention", "MultiHeadAttention", false,
        settings("num_heads", heads, "key_dim", embed, "value_dim", embed));
    // Keras builds the internal softmax and dropout layers (auto-named) when the layer is first called.
    mha.internalNames(name("softmax"), name("dropout"));
    TensorRef attention = graph.call(mha, List.of(norm1, norm1), ArgStyle.PAIR, norm1.shape());
    graph.role(role + ".mha", mha.name());
    attention = dropout(attention);
    TensorRef out1 = merge("Add", "Add", List.of(inputs, attention), inputs.shape());
    TensorRef norm2 = layerNorm(out1);
    TensorRef ffn = dense(norm2, ff, "Dense.relu");
    graph.role(role + ".ffn1", ffn.layer());
    ffn = dense(ffn, embed, "Dense");
    ffn = dropout(ffn);
    return merge("Add", "Add", List.of(out1, ffn), out1.shape());
  }

  private TensorRef decoder(TensorRef encodedTrans, TensorRef e1, TensorRef e2, TensorRef e3, String head) {
    int[] f = config.filters();
    TensorRef d = convTranspose(encodedTrans, f[2]);
    d = batchNorm(d);
    d = concatenate(List.of(d, e3), "Concatenate");
    d = conv(d, f[2], "Conv2D", 1);
    d = batchNorm(d);
    d = cbam(d, head + ".cbam3");
    d = convTranspose(d, f[1]);
    d = batchNorm(d);
    d = concatenate(List.of(d, e2), "Concatenate");
    d = conv(d, f[1], "Conv2D", 1);
    d = batchNorm(d);
    d = cbam(d, head + ".cbam2");
    TensorRef xa = conv(d, f[1], "Conv2D.stride2", 2);
    xa = batchNorm(xa);
    long[] s = xa.shape();
    TensorRef xs = reshape(xa, (int) (s[0] * s[1]), (int) s[2]);
    xs = transformerBlock(xs, config.lightHeads(), (int) s[2], config.lightFfDim(), head + ".light");
    xa = reshape(xs, (int) s[0], (int) s[1], (int) s[2]);
    xa = convTranspose(xa, f[1]);
    xa = batchNorm(xa);
    d = convTranspose(xa, f[0]);
    d = batchNorm(d);
    d = concatenate(List.of(d, e1), "Concatenate");
    d = conv(d, f[0], "Conv2D", 1);
    d = batchNorm(d);
    d = cbam(d, head + ".cbam1");
    Layer out = graph.add(head, "Conv2D", "Conv2D.head", false, settings("filters", 1));
    long[] ds = d.shape();
    return graph.call(out, List.of(d), ArgStyle.SINGLE, shape(ds[0], ds[1], 1));
  }

  private TensorRef cbam(TensorRef feature, String role) {
    long[] s = feature.shape();
    int channels = (int) s[2];
    Layer shared1 = graph.add(name("dense"), "Dense", "Dense.cbam_relu", false,
        settings("units", channels / config.cbamRatio()));
    Layer shared2 = graph.add(name("dense"), "Dense", "Dense.cbam_linear", false, settings("units", channels));
    graph.role(role + ".dense1", shared1.name());
    TensorRef avg = pool(feature, "GlobalAveragePooling2D", "global_average_pooling2d");
    avg = reshape(avg, 1, 1, channels);
    avg = graph.call(shared1, List.of(avg), ArgStyle.SINGLE, shape(1, 1, channels / config.cbamRatio()));
    avg = graph.call(shared2, List.of(avg), ArgStyle.SINGLE, shape(1, 1, channels));
    TensorRef max = pool(feature, "GlobalMaxPooling2D", "global_max_pooling2d");
    max = reshape(max, 1, 1, channels);
    max = graph.call(shared1, List.of(max), ArgStyle.SINGLE, shape(1, 1, channels / config.cbamRatio()));
    max = graph.call(shared2, List.of(max), ArgStyle.SINGLE, shape(1, 1, channels));
    TensorRef attention = merge("Add", "Add", List.of(avg, max), avg.shape());
    Layer sigmoid = graph.add(name("activation"), "Activation", "Activation", false, Map.of());
    attention = graph.call(sigmoid, List.of(attention), ArgStyle.SINGLE, attention.shape());
    TensorRef refined = merge("Multiply", "Multiply", List.of(feature, attention), s);
    Layer mean = graph.add(name("lambda"), "Lambda", "Lambda.mean", false, Map.of());
    TensorRef meanMap = graph.call(mean, List.of(refined), ArgStyle.SINGLE, shape(s[0], s[1], 1));
    Layer maxLambda = graph.add(name("lambda"), "Lambda", "Lambda.max", false, Map.of());
    TensorRef maxMap = graph.call(maxLambda, List.of(refined), ArgStyle.SINGLE, shape(s[0], s[1], 1));
    TensorRef both = concatenate(List.of(meanMap, maxMap), "Concatenate.channels");
    Layer spatial = graph.add(name("conv2d"), "Conv2D", "Conv2D.spatial", false,
        settings("filters", 1, "use_bias", false));
    TensorRef spatialMap = graph.call(spatial, List.of(both), ArgStyle.SINGLE, shape(s[0], s[1], 1));
    return merge("Multiply", "Multiply", List.of(refined, spatialMap), s);
  }

  private TensorRef conv(TensorRef in, int filters, String template, int stride) {
    Layer layer = graph.add(name("conv2d"), "Conv2D", template, false, settings("filters", filters));
    long[] s = in.shape();
    return graph.call(layer, List.of(in), ArgStyle.SINGLE,
        shape(ceilDiv(s[0], stride), ceilDiv(s[1], stride), filters));
  }

  private TensorRef convTranspose(TensorRef in, int filters) {
    Layer layer = graph.add(name("conv2d_transpose"), "Conv2DTranspose", "Conv2DTranspose", false,
        settings("filters", filters));
    long[] s = in.shape();
    return graph.call(layer, List.of(in), ArgStyle.SINGLE, shape(s[0] * 2, s[1] * 2, filters));
  }

  private TensorRef maxPool(TensorRef in) {
    Layer layer = graph.add(name("max_pooling2d"), "MaxPooling2D", "MaxPooling2D", false, Map.of());
    long[] s = in.shape();
    return graph.call(layer, List.of(in), ArgStyle.SINGLE, shape(ceilDiv(s[0], 2), ceilDiv(s[1], 2), s[2]));
  }

  private TensorRef pool(TensorRef in, String className, String prefix) {
    Layer layer = graph.add(name(prefix), className, className, false, Map.of());
    return graph.call(layer, List.of(in), ArgStyle.SINGLE, shape(in.shape()[2]));
  }

  private TensorRef reshape(TensorRef in, long... target) {
    Layer layer = graph.add(name("reshape"), "Reshape", "Reshape", false, settings("target_shape", target.clone()));
    return graph.call(layer, List.of(in), ArgStyle.SINGLE, target);
  }

  private TensorRef dense(TensorRef in, int units, String template) {
    Layer layer = graph.add(name("dense"), "Dense", template, false, settings("units", units));
    long[] s = in.shape().clone();
    s[s.length - 1] = units;
    return graph.call(layer, List.of(in), ArgStyle.SINGLE, s);
  }

  private TensorRef layerNorm(TensorRef in) {
    Layer layer = graph.add(name("layer_normalization"), "LayerNormalization", "LayerNormalization", false,
        settings("epsilon", config.lnEpsilon()));
    return graph.call(layer, List.of(in), ArgStyle.SINGLE, in.shape());
  }

  private TensorRef batchNorm(TensorRef in) {
    Layer layer = graph.add(name("batch_normalization"), "BatchNormalization", "BatchNormalization", false,
        Map.of());
    return graph.call(layer, List.of(in), ArgStyle.SINGLE, in.shape());
  }

  private TensorRef dropout(TensorRef in) {
    Layer layer = graph.add(name("dropout"), "Dropout", "Dropout", false, settings("rate", config.dropout()));
    return graph.call(layer, List.of(in), ArgStyle.SINGLE, in.shape());
  }

  private TensorRef concatenate(List<TensorRef> in, String template) {
    long[] s = in.get(0).shape().clone();
    s[s.length - 1] = in.stream().mapToLong(t -> t.shape()[t.shape().length - 1]).sum();
    return merge("Concatenate", template, in, s);
  }

  private TensorRef merge(String className, String template, List<TensorRef> in, long[] outShape) {
    Layer layer = graph.add(name(KerasGraph.snakeCase(className)), className, template, false, Map.of());
    return graph.call(layer, in, ArgStyle.LIST, outShape);
  }

  /** Keras's auto name: {@code prefix} for the first uid of a prefix, {@code prefix_<n>} after. */
  private String name(String prefix) {
    int uid = uids.merge(prefix, 1, Integer::sum);
    return uid == 1 ? prefix : prefix + "_" + (uid - 1);
  }

  /**
   * Every variable's Keras path and shape, in model.layers order, then the position embedding: the one derivation of
   * the weights from the description, used by every file reader's check and by the graph as it is built.
   */
  public static Map<String, long[]> expectedShapes(ModelConfig config) {
    return expectedShapes(of(config), config.embedDim());
  }

  /** Every weight of {@code graph}'s layers, derived from each layer's settings and input shape. */
  static Map<String, long[]> expectedShapes(KerasGraph graph, int embedDim) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (KerasGraph.Layer layer : graph.modelLayers()) {
      long[] in = layer.calls().get(0).inputs().isEmpty() ? new long[0] : layer.calls().get(0).inputs().get(0).shape();
      long inChannels = in.length == 0 ? 0 : in[in.length - 1];
      String n = layer.name() + "/";
      switch (layer.className()) {
        case "Conv2D" -> {
          long filters = ((Number) layer.settings().get("filters")).longValue();
          long k = layer.template().equals("Conv2D.spatial") ? 7 : 3;
          shapes.put(n + "kernel", new long[] {k, k, inChannels, filters});
          if (layer.useBias()) {
            shapes.put(n + "bias", new long[] {filters});
          }
        }
        case "Conv2DTranspose" -> {
          long filters = ((Number) layer.settings().get("filters")).longValue();
          shapes.put(n + "kernel", new long[] {3, 3, filters, inChannels});
          shapes.put(n + "bias", new long[] {filters});
        }
        case "Dense" -> {
          long units = ((Number) layer.settings().get("units")).longValue();
          shapes.put(n + "kernel", new long[] {inChannels, units});
          shapes.put(n + "bias", new long[] {units});
        }
        case "BatchNormalization" -> {
          for (String v : variableNames("BatchNormalization", true)) {
            shapes.put(n + v, new long[] {inChannels});
          }
        }
        case "LayerNormalization" -> {
          shapes.put(n + "gamma", new long[] {inChannels});
          shapes.put(n + "beta", new long[] {inChannels});
        }
        case "MultiHeadAttention" -> {
          long heads = ((Number) layer.settings().get("num_heads")).longValue();
          long keyDim = ((Number) layer.settings().get("key_dim")).longValue();
          for (String part : List.of("query", "key", "value")) {
            shapes.put(n + part + "/kernel", new long[] {inChannels, heads, keyDim});
            shapes.put(n + part + "/bias", new long[] {heads, keyDim});
          }
          shapes.put(n + "attention_output/kernel", new long[] {heads, keyDim, inChannels});
          shapes.put(n + "attention_output/bias", new long[] {inChannels});
        }
        default -> { }
      }
    }
    shapes.put(WeightSet.POSITION_EMBEDDING, new long[] {1, ModelConfig.TOKENS, embedDim});
    return shapes;
  }

  /**
   * Variable names of one layer class in Keras's creation order (empty for a layer without weights, and for
   * MultiHeadAttention, whose sublayers hold its weights): the order of a {@code .weights.h5} group's {@code vars/}.
   */
  public static List<String> variableNames(String className, boolean useBias) {
    return switch (className) {
      case "Conv2D", "Conv2DTranspose", "Dense" -> useBias ? List.of("kernel", "bias") : List.of("kernel");
      case "BatchNormalization" -> List.of("gamma", "beta", "moving_mean", "moving_variance");
      case "LayerNormalization" -> List.of("gamma", "beta");
      default -> List.of();
    };
  }

  private static Map<String, Object> settings(Object... keyValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put((String) keyValues[i], keyValues[i + 1]);
    }
    return m;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  private static long[] shape(long... dims) {
    return dims;
  }
}
