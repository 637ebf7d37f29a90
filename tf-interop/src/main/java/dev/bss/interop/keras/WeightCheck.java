package dev.bss.interop.keras;

import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Validates a {@link WeightSet} against the reference network of a config before anything trusts it: every
 * missing, unexpected, mis-shaped and non-finite weight is reported in one message.
 */
public final class WeightCheck {

  /** Longest list of problems spelled out in one message. */
  private static final int MAX_LISTED = 12;

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
    Map<String, long[]> expected = expectedShapes(config);
    List<String> missing = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      Weight w = weights.get(e.getKey());
      if (w == null) {
        missing.add(e.getKey());
      } else if (!Arrays.equals(w.shape(), e.getValue())) {
        problems.add(e.getKey() + ": expected " + Arrays.toString(e.getValue()) + ", found " + w.shapeString());
      } else if (w.firstNonFinite() >= 0) {
        problems.add(e.getKey() + ": non-finite value " + w.data()[w.firstNonFinite()] + " at flat index "
            + w.firstNonFinite());
      }
    }
    List<String> unexpected = new ArrayList<>();
    for (String path : weights.paths()) {
      if (!expected.containsKey(path)) {
        unexpected.add(path);
      }
    }
    if (missing.isEmpty() && unexpected.isEmpty() && problems.isEmpty()) {
      return;
    }
    StringBuilder msg = new StringBuilder(where).append(": weights do not fit the network ").append(describe(config));
    append(msg, "wrong", problems);
    append(msg, "missing", missing);
    append(msg, "unexpected", unexpected);
    throw new IllegalArgumentException(msg.toString());
  }

  /** Fails with one message when a file lacks expected entries or has extra ones. */
  static void requireComplete(String where, ModelConfig config, List<String> missing, List<String> unexpected) {
    if (missing.isEmpty() && unexpected.isEmpty()) {
      return;
    }
    StringBuilder msg = new StringBuilder(where).append(": not the weights of the network ").append(describe(config));
    append(msg, "missing", missing);
    append(msg, "unexpected", unexpected);
    throw new IllegalArgumentException(msg.toString());
  }

  /** Short config text for messages: filters, embed, heads, ff, blocks. */
  public static String describe(ModelConfig c) {
    return "(filters " + Arrays.toString(c.filters()) + ", embed_dim " + c.embedDim() + ", num_heads " + c.numHeads()
        + ", ff_dim " + c.ffDim() + ", num_blocks " + c.numBlocks() + ", light_heads " + c.lightHeads()
        + ", light_ff_dim " + c.lightFfDim() + ", cbam_ratio " + c.cbamRatio() + ")";
  }

  private static void append(StringBuilder msg, String label, List<String> items) {
    if (items.isEmpty()) {
      return;
    }
    msg.append("; ").append(items.size()).append(' ').append(label).append(": ");
    msg.append(String.join(", ", items.subList(0, Math.min(MAX_LISTED, items.size()))));
    if (items.size() > MAX_LISTED) {
      msg.append(", ... (").append(items.size() - MAX_LISTED).append(" more)");
    }
  }
}
