package dev.bss.interop.keras;

import dev.bss.model.keras.ReferenceGraph;
import dev.bss.model.keras.KerasGraph;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each Keras variable lives in a Keras 3 {@code .weights.h5} file (also the {@code model.weights.h5} inside
 * a {@code .keras} archive): {@code layers/<snake_case class>[_N]/vars/<i>}, with MultiHeadAttention's variables one
 * level down in {@code query_dense}, {@code key_dense}, {@code value_dense} and {@code output_dense}.
 *
 * <p>N counts layers of the same class in {@code model.layers} order (Keras's {@code _save_container_state}), so
 * the layout is computed from that order, never from layer names: the layer {@code dense_8} of the reference
 * network is stored as {@code layers/dense_9}.
 */
public final class WeightsH5Layout {

  /**
   * One model layer as the layout needs it.
   *
   * @param name Keras layer name
   * @param className Keras class, e.g. {@code Conv2D}
   * @param useBias false for a Conv2D/Dense/Conv2DTranspose built with {@code use_bias=False}
   * @param internalNames for MultiHeadAttention: names of its internal softmax and dropout layers (may be empty)
   */
  public record LayerRef(String name, String className, boolean useBias, Map<String, String> internalNames) {}

  /** One variable: its Keras path ({@code dense_8/kernel}) and its dataset path ({@code layers/dense_9/vars/0}). */
  public record Entry(String kerasPath, String h5Path, String layerName, String layerClass) {}

  /**
   * One group Keras writes (even for a layer without weights): its path and the {@code name} attribute of its
   * {@code vars} subgroup.
   */
  public record Group(String path, String name) {}

  /** Sub-layers of MultiHeadAttention: h5 group, Keras path segment, EinsumDense name. */
  private static final String[][] MHA_PARTS = {
    {"query_dense", "query"}, {"key_dense", "key"}, {"value_dense", "value"}, {"output_dense", "attention_output"}
  };

  private final List<Entry> entries = new ArrayList<>();
  private final List<Group> groups = new ArrayList<>();

  private WeightsH5Layout() {}

  /** The layout of a graph's {@link KerasGraph#modelLayers()}. */
  public static WeightsH5Layout of(KerasGraph graph) {
    List<LayerRef> refs = new ArrayList<>();
    for (KerasGraph.Layer layer : graph.modelLayers()) {
      Map<String, String> internal = new LinkedHashMap<>();
      for (String key : List.of(KerasGraph.DROPOUT_NAME, KerasGraph.SOFTMAX_NAME)) {
        if (layer.settings().get(key) instanceof String s) {
          internal.put(key, s);
        }
      }
      refs.add(new LayerRef(layer.name(), layer.className(), layer.useBias(), internal));
    }
    return of(refs);
  }

  /** The layout of layers listed in {@code model.layers} order. */
  public static WeightsH5Layout of(List<LayerRef> modelLayers) {
    WeightsH5Layout layout = new WeightsH5Layout();
    Map<String, Integer> used = new HashMap<>();
    for (LayerRef layer : modelLayers) {
      String base = KerasGraph.snakeCase(layer.className());
      int n = used.merge(base, 1, Integer::sum) - 1;
      String group = "layers/" + (n == 0 ? base : base + "_" + n);
      layout.groups.add(new Group(group, layer.name()));
      if (layer.className().equals("MultiHeadAttention")) {
        for (String[] part : MHA_PARTS) {
          layout.groups.add(new Group(group + "/" + part[0], part[1]));
          layout.add(layer, group + "/" + part[0], part[1] + "/kernel", 0);
          layout.add(layer, group + "/" + part[0], part[1] + "/bias", 1);
        }
        for (Map.Entry<String, String> internal : layer.internalNames().entrySet()) {
          layout.groups.add(new Group(group + "/" + internal.getKey(), internal.getValue()));
        }
        continue;
      }
      List<String> names = variableNames(layer.className(), layer.useBias());
      for (int i = 0; i < names.size(); i++) {
        layout.add(layer, group, names.get(i), i);
      }
    }
    return layout;
  }

  /** Variable names of one layer in Keras's creation order (empty for a layer without weights). */
  static List<String> variableNames(String className, boolean useBias) {
    return ReferenceGraph.variableNames(className, useBias);
  }

  private void add(LayerRef layer, String group, String variable, int index) {
    entries.add(new Entry(layer.name() + "/" + variable, group + "/vars/" + index, layer.name(), layer.className()));
  }

  /** Every variable in {@code model.layers} order, then creation order within a layer. */
  public List<Entry> entries() {
    return Collections.unmodifiableList(entries);
  }

  /** Every group Keras writes for these layers (weightless layers included), with its {@code vars} name. */
  public List<Group> groups() {
    return Collections.unmodifiableList(groups);
  }

  /** Keras path to dataset path. */
  public Map<String, String> byKerasPath() {
    Map<String, String> m = new LinkedHashMap<>();
    for (Entry e : entries) {
      m.put(e.kerasPath(), e.h5Path());
    }
    return m;
  }
}
