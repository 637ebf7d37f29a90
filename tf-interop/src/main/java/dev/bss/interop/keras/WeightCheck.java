package dev.bss.interop.keras;

import dev.bss.model.ModelConfig;
import dev.bss.model.WeightSet;
import dev.bss.model.WeightValidation;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Validates a {@link WeightSet} against the reference network of a config before anything trusts it: every
 * missing, unexpected, mis-shaped and non-finite weight is reported in one message.
 */
public final class WeightCheck {

  private WeightCheck() {}

  /** Every variable's Keras shape, in model.layers order, then the position embedding. */
  public static Map<String, long[]> expectedShapes(ModelConfig config) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (KerasGraph.Layer layer : ReferenceGraph.of(config).modelLayers()) {
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
          for (String v : WeightsH5Layout.variableNames("BatchNormalization", true)) {
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
    shapes.put(WeightSet.POSITION_EMBEDDING, new long[] {1, 16, config.embedDim()});
    return shapes;
  }

  /**
   * Checks names, shapes and values.
   *
   * @param where the file or source named in the message
   * @throws IllegalArgumentException listing every problem at once
   */
  public static void validate(WeightSet weights, ModelConfig config, String where) {
    WeightValidation.require(expectedShapes(config), weights, where, "the network " + describe(config));
  }

  /** Fails with one message when a file lacks expected entries or has extra ones. */
  static void requireComplete(String where, ModelConfig config, List<String> missing, List<String> unexpected) {
    if (missing.isEmpty() && unexpected.isEmpty()) {
      return;
    }
    StringBuilder msg = new StringBuilder(where).append(": not the weights of the network ").append(describe(config));
    WeightValidation.append(msg, "missing", missing);
    WeightValidation.append(msg, "unexpected", unexpected);
    throw new IllegalArgumentException(msg.toString());
  }

  /** Short config text for messages: filters, embed, heads, ff, blocks. */
  public static String describe(ModelConfig c) {
    return "(filters " + Arrays.toString(c.filters()) + ", embed_dim " + c.embedDim() + ", num_heads " + c.numHeads()
        + ", ff_dim " + c.ffDim() + ", num_blocks " + c.numBlocks() + ", light_heads " + c.lightHeads()
        + ", light_ff_dim " + c.lightFfDim() + ", cbam_ratio " + c.cbamRatio() + ")";
  }
}
