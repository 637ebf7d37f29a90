package dev.bss.interop.keras;

import dev.bss.model.keras.ReferenceGraph;
import dev.bss.model.keras.KerasGraph;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Infers the {@link ModelConfig} of the reference network from weight shapes, so that a weight file is usable
 * without a config: filters from the encoder kernels, embed_dim from the bottleneck Dense, heads from the MHA query
 * kernels, ff widths from the first feed-forward Dense of each kind of block, the CBAM ratio from its first Dense,
 * and num_blocks from the number of MultiHeadAttention layers (num_blocks + 2, one per decoder). LayerNorm epsilon
 * and dropout are not in weights: they take the seed's values (1e-6, 0.1).
 */
public final class ConfigInference {

  private static final Pattern MHA_H5 = Pattern.compile("^layers/(multi_head_attention(?:_\\d+)?)/");
  private static final Pattern MHA_PATH = Pattern.compile("^(multi_head_attention(?:_\\d+)?)/");

  private ConfigInference() {}

  /** From the raw datasets of a Keras 3 {@code .weights.h5} ({@code layers/.../vars/i}). */
  public static ModelConfig fromWeightsH5(Map<String, Weight> datasets, String where) {
    int blocks = countBlocks(datasets.keySet(), MHA_H5, where);
    KerasGraph provisional = ReferenceGraph.of(provisional(blocks));
    WeightSet byPath = new WeightSet();
    for (WeightsH5Layout.Entry e : WeightsH5Layout.of(provisional).entries()) {
      Weight w = datasets.get(e.h5Path());
      if (w != null) {
        byPath.put(e.kerasPath(), w);
      }
    }
    return fromKerasPaths(byPath, provisional, where);
  }

  /** From weights keyed by the Keras paths of the reference network's auto names. */
  public static ModelConfig fromKerasPaths(WeightSet weights, String where) {
    int blocks = countBlocks(weights.paths(), MHA_PATH, where);
    return fromKerasPaths(weights, ReferenceGraph.of(provisional(blocks)), where);
  }

  private static ModelConfig fromKerasPaths(WeightSet weights, KerasGraph graph, String where) {
    Map<String, String> roles = graph.roles();
    List<String> missing = new ArrayList<>();
    long[] conv1 = kernel(weights, roles.get("encoder.conv1"), "", missing);
    long[] conv3 = kernel(weights, roles.get("encoder.conv3"), "", missing);
    long[] conv5 = kernel(weights, roles.get("encoder.conv5"), "", missing);
    long[] dense = kernel(weights, roles.get("bottleneck.dense"), "", missing);
    long[] mha = kernel(weights, roles.get("bottleneck.0.mha"), "query/", missing);
    long[] ffn = kernel(weights, roles.get("bottleneck.0.ffn1"), "", missing);
    long[] lightMha = kernel(weights, roles.get("decoded1.light.mha"), "query/", missing);
    long[] lightFfn = kernel(weights, roles.get("decoded1.light.ffn1"), "", missing);
    long[] cbam3 = kernel(weights, roles.get("decoded1.cbam3.dense1"), "", missing);
    long[] cbam2 = kernel(weights, roles.get("decoded1.cbam2.dense1"), "", missing);
    long[] cbam1 = kernel(weights, roles.get("decoded1.cbam1.dense1"), "", missing);
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(where + ": cannot infer the network's config, missing " + String.join(", ",
          missing) + " (is this the reference separation network?)");
    }
    int[] filters = {(int) conv1[3], (int) conv3[3], (int) conv5[3]};
    int ratio = cbamRatio(filters, new long[] {cbam1[1], cbam2[1], cbam3[1]}, where);
    try {
      return new ModelConfig(filters, (int) dense[1], (int) mha[1], (int) ffn[1], graphBlocks(graph),
          (int) lightMha[1], (int) lightFfn[1], ratio, 1e-6, 0.1, false);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": the weights' shapes give an impossible config: " + e.getMessage(), e);
    }
  }

  private static int graphBlocks(KerasGraph graph) {
    return (int) graph.creationOrder().stream().filter(l -> l.className().equals("MultiHeadAttention")).count() - 2;
  }

  private static int cbamRatio(int[] filters, long[] hidden, String where) {
    if (hidden[2] > 0 && filters[2] % hidden[2] == 0 && fits(filters, hidden, (int) (filters[2] / hidden[2]))) {
      return (int) (filters[2] / hidden[2]);
    }
    for (int r = 1; r <= filters[2]; r++) {
      if (fits(filters, hidden, r)) {
        return r;
      }
    }
    throw new IllegalArgumentException(where + ": CBAM widths " + java.util.Arrays.toString(hidden)
        + " fit no cbam_ratio for filters " + java.util.Arrays.toString(filters));
  }

  private static boolean fits(int[] filters, long[] hidden, int r) {
    for (int i = 0; i < 3; i++) {
      if (filters[i] / r != hidden[i]) {
        return false;
      }
    }
    return true;
  }

  private static long[] kernel(WeightSet weights, String layer, String part, List<String> missing) {
    String path = layer + "/" + part + "kernel";
    Weight w = weights.get(path);
    if (w == null) {
      missing.add(path);
      return new long[4];
    }
    long[] s = w.shape();
    return s.length >= 2 ? s : new long[4];
  }

  private static int countBlocks(Set<String> keys, Pattern mha, String where) {
    Set<String> layers = new TreeSet<>();
    for (String k : keys) {
      Matcher m = mha.matcher(k);
      if (m.find()) {
        layers.add(m.group(1));
      }
    }
    if (layers.size() < 3) {
      throw new IllegalArgumentException(where + ": found " + layers.size() + " MultiHeadAttention layer(s), the "
          + "reference separation network has num_blocks + 2 (at least 3): not this network's weights");
    }
    return layers.size() - 2;
  }

  /** A config with the right structure (number of blocks) and placeholder widths, used only for names. */
  private static ModelConfig provisional(int blocks) {
    return new ModelConfig(new int[] {1, 1, 1}, 1, 1, 1, blocks, 1, 1, 1, 1e-6, 0.1, false);
  }
}
