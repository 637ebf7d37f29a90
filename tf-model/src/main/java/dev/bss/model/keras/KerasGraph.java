package dev.bss.model.keras;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Keras functional graph: layers (and bare operations such as {@code x + pos_embedding}) with their calls.
 *
 * <p>It exists to compute what Keras derives from the topology and not from layer names: the order of
 * {@code model.layers} (Keras 3's {@code keras.src.ops.function.map_graph}: operations sorted by decreasing depth,
 * ties broken by the order of a depth-first walk from the outputs), which in turn fixes the dataset paths of a
 * {@code .weights.h5} file ({@code layers/<snake_case class>[_N]}, N counting layers of one class in that order) and
 * the layer order of a {@code .keras} file's {@code config.json}.
 */
public final class KerasGraph {

  /**
   * One tensor: output 0 of call {@code nodeIndex} of layer {@code layer}.
   *
   * @param shape shape without the batch dimension
   */
  public record TensorRef(String layer, int nodeIndex, long[] shape) {}

  /** How a call passes its inputs, as Keras serializes them in {@code inbound_nodes}. */
  public enum ArgStyle {
    /** {@code layer(x)}. */
    SINGLE,
    /** {@code layer([a, b])}: merge layers (Add, Multiply, Concatenate). */
    LIST,
    /** {@code layer(a, b)}: MultiHeadAttention(query, value). */
    PAIR,
    /** {@code x + constant}: the position embedding, a bare operation whose second argument is a tensor value. */
    CONSTANT_ADD
  }

  /** One call (Keras "node") of a layer. */
  public record Call(List<TensorRef> inputs, ArgStyle style, long[] outputShape) {}

  /** One layer or bare operation. */
  public static final class Layer {
    private final String name;
    private final String className;
    private final String template;
    private final boolean operation;
    private final Map<String, Object> settings;
    private final List<Call> calls = new ArrayList<>();

    Layer(String name, String className, String template, boolean operation, Map<String, Object> settings) {
      this.name = name;
      this.className = className;
      this.template = template;
      this.operation = operation;
      this.settings = settings;
    }

    /** Keras name, e.g. {@code conv2d_5}. */
    public String name() {
      return name;
    }

    /** Keras class, e.g. {@code Conv2D}; {@code Add} for the bare add operation. */
    public String className() {
      return className;
    }

    /** Key of this layer's entry in the config template resource. */
    public String template() {
      return template;
    }

    /** True for a bare operation (not a Keras Layer: not in {@code model.layers}, never saved). */
    public boolean isOperation() {
      return operation;
    }

    /** Config values that differ from the template (filters, units, ...), plus internal names (MHA). */
    public Map<String, Object> settings() {
      return Collections.unmodifiableMap(settings);
    }

    public List<Call> calls() {
      return Collections.unmodifiableList(calls);
    }

    /** Records the auto names of a MultiHeadAttention's internal softmax and dropout layers. */
    void internalNames(String softmax, String dropout) {
      settings.put(SOFTMAX_NAME, softmax);
      settings.put(DROPOUT_NAME, dropout);
    }

    /** Whether the layer has a bias (Conv2D, Conv2DTranspose, Dense); false when the setting says so. */
    public boolean useBias() {
      return !Boolean.FALSE.equals(settings.get("use_bias"));
    }
  }

  /** Setting holding the name of a MultiHeadAttention's internal Softmax layer. */
  public static final String SOFTMAX_NAME = "_softmax";

  /** Setting holding the name of a MultiHeadAttention's internal Dropout layer. */
  public static final String DROPOUT_NAME = "_dropout_layer";

  private final Map<String, Layer> layers = new LinkedHashMap<>();
  private final List<TensorRef> inputs = new ArrayList<>();
  private final List<TensorRef> outputs = new ArrayList<>();
  private final Map<String, String> roles = new LinkedHashMap<>();

  KerasGraph() {}

  Layer add(String name, String className, String template, boolean operation, Map<String, Object> settings) {
    if (layers.containsKey(name)) {
      throw new IllegalStateException("Keras graph: layer name " + name + " used twice");
    }
    Layer layer = new Layer(name, className, template, operation, new LinkedHashMap<>(settings));
    layers.put(name, layer);
    return layer;
  }

  TensorRef call(Layer layer, List<TensorRef> in, ArgStyle style, long[] outputShape) {
    layer.calls.add(new Call(List.copyOf(in), style, outputShape.clone()));
    return new TensorRef(layer.name, layer.calls.size() - 1, outputShape.clone());
  }

  void addInput(TensorRef input) {
    inputs.add(input);
  }

  void addOutput(TensorRef output) {
    outputs.add(output);
  }

  void role(String role, String layerName) {
    roles.put(role, layerName);
  }

  /** Every layer and operation in creation order. */
  public List<Layer> creationOrder() {
    return List.copyOf(layers.values());
  }

  /** The layer called {@code name}; IllegalArgumentException naming it when there is none. */
  public Layer layer(String name) {
    Layer layer = layers.get(name);
    if (layer == null) {
      throw new IllegalArgumentException("Keras graph has no layer named " + name);
    }
    return layer;
  }

  /** Named roles of the generator (e.g. {@code bottleneck.ffn1}) mapped to layer names. */
  public Map<String, String> roles() {
    return Collections.unmodifiableMap(roles);
  }

  public List<TensorRef> inputs() {
    return List.copyOf(inputs);
  }

  public List<TensorRef> outputs() {
    return List.copyOf(outputs);
  }

  /**
   * Layers and operations in Keras's {@code Functional._operations} order: the order of {@code config.json}'s
   * layer list. Ports {@code map_graph} of {@code keras/src/ops/function.py}.
   */
  public List<Layer> operationOrder() {
    // Depth-first walk from the outputs, in output order, recording nodes when finished (inputs first).
    Map<Layer, Integer> operationIndex = new IdentityHashMap<>();
    List<NodeKey> finishedOrder = new ArrayList<>();
    Set<NodeKey> finished = new HashSet<>();
    Set<NodeKey> inProgress = new HashSet<>();
    for (TensorRef output : outputs) {
      walk(output, finished, inProgress, finishedOrder, operationIndex);
    }
    Map<NodeKey, Integer> nodeDepth = new HashMap<>();
    Map<Layer, Integer> operationDepth = new LinkedHashMap<>();
    for (int i = finishedOrder.size() - 1; i >= 0; i--) {
      NodeKey node = finishedOrder.get(i);
      Layer op = layers.get(node.layer());
      int depth = nodeDepth.computeIfAbsent(node, k -> 0);
      depth = Math.max(depth, operationDepth.getOrDefault(op, 0));
      operationDepth.put(op, depth);
      nodeDepth.put(node, depth);
      for (TensorRef parent : op.calls.get(node.index()).inputs()) {
        NodeKey parentNode = new NodeKey(parent.layer(), parent.nodeIndex());
        nodeDepth.merge(parentNode, depth + 1, Math::max);
      }
    }
    List<Layer> ordered = new ArrayList<>(operationDepth.keySet());
    // Stable sort: decreasing depth, then first-seen index of the walk.
    ordered.sort((a, b) -> {
      int byDepth = Integer.compare(operationDepth.get(b), operationDepth.get(a));
      return byDepth != 0 ? byDepth : Integer.compare(operationIndex.get(a), operationIndex.get(b));
    });
    return ordered;
  }

  /** Keras's {@code model.layers}: {@link #operationOrder()} without the bare operations. */
  public List<Layer> modelLayers() {
    return operationOrder().stream().filter(l -> !l.isOperation()).toList();
  }

  private record NodeKey(String layer, int index) {}

  private void walk(TensorRef tensor, Set<NodeKey> finished, Set<NodeKey> inProgress, List<NodeKey> finishedOrder,
      Map<Layer, Integer> operationIndex) {
    NodeKey node = new NodeKey(tensor.layer(), tensor.nodeIndex());
    if (finished.contains(node)) {
      return;
    }
    if (inProgress.contains(node)) {
      throw new IllegalStateException("Keras graph: cycle through " + tensor.layer());
    }
    Layer op = layers.get(tensor.layer());
    operationIndex.putIfAbsent(op, operationIndex.size());
    inProgress.add(node);
    for (TensorRef input : op.calls.get(node.index()).inputs()) {
      walk(input, finished, inProgress, finishedOrder, operationIndex);
    }
    finished.add(node);
    inProgress.remove(node);
    finishedOrder.add(node);
  }

  private static final Pattern NON_WORD = Pattern.compile("\\W+");
  private static final Pattern CAPITALIZED_WORD = Pattern.compile("(.)([A-Z][a-z]+)");
  private static final Pattern LOWER_UPPER = Pattern.compile("([a-z])([A-Z])");

  /** Keras's {@code naming.to_snake_case}: {@code Conv2DTranspose -> conv2d_transpose}. */
  public static String snakeCase(String className) {
    String name = NON_WORD.matcher(className).replaceAll("");
    name = CAPITALIZED_WORD.matcher(name).replaceAll("$1_$2");
    return LOWER_UPPER.matcher(name).replaceAll("$1_$2").toLowerCase(java.util.Locale.ROOT);
  }
}
