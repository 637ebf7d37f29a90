package dev.bss.model.layers;

import dev.bss.model.ModelVariable;
import dev.bss.model.LayerInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.proto.DataType;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * What the layers of one network share while the graph is built: the Keras auto-name counters, the variables (in
 * creation order, each with its initializer), the layer table, the calls ("nodes") between layers, the dropout seed
 * and the BatchNormalization update ops.
 *
 * <p>Keras names a layer {@code <snake_case class>[_N]} with one counter per class, counted when the layer is
 * constructed, so layers here must be constructed in the order the Keras script constructs them.
 */
public final class GraphContext {

  /** One call of a layer (Keras "node"): which layer, and the nodes whose outputs it consumed. */
  public record Node(String layer, List<Integer> inbound) {}

  private final Ops tf;
  private final Ops trainingOps;
  private final Ops inferenceOps;
  private final Map<String, Integer> nameCounters = new HashMap<>();
  private final List<ModelVariable> variables = new ArrayList<>();
  private final List<Initializer> initializers = new ArrayList<>();
  private final List<LayerInfo> layers = new ArrayList<>();
  private final Map<String, LayerInfo> layersByName = new HashMap<>();
  private final Map<String, Operand<TFloat32>> layerOutputs = new LinkedHashMap<>();
  private final List<Node> nodes = new ArrayList<>();
  private final List<Op> batchNormUpdates = new ArrayList<>();
  private final Placeholder<TInt64> dropoutSeed;
  private int dropoutLayers;
  /** The Keras description's weights (path to shape) every created variable must match; null: no check. */
  private final Map<String, long[]> expectedWeights;

  public GraphContext(Ops tf) {
    this(tf, null);
  }

  /**
   * A context that checks each variable's Keras path and shape against {@code expectedWeights} as it is created
   * (see {@link dev.bss.model.keras.ReferenceGraph#expectedShapes}); {@link #checkAllCreated()} checks that none is
   * missing.
   */
  public GraphContext(Ops tf, Map<String, long[]> expectedWeights) {
    this.expectedWeights = expectedWeights;
    this.tf = tf;
    this.trainingOps = tf.withSubScope("training");
    this.inferenceOps = tf.withSubScope("inference");
    this.dropoutSeed = tf.withName("dropout_seed").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
  }

  /** Root ops (variables, placeholders). */
  public Ops tf() {
    return tf;
  }

  /**
   * Ops of one branch (name scopes {@code training/} and {@code inference/}); no per-layer sub-scope, because each
   * sub-scope costs a scan of the whole graph.
   */
  public Ops ops(String layerName, boolean training) {
    return training ? trainingOps : inferenceOps;
  }

  /** Next Keras auto name for a class, e.g. {@code conv2d}, {@code conv2d_1}, ... */
  public String autoName(String snakeCaseClass) {
    int n = nameCounters.merge(snakeCaseClass, 1, Integer::sum) - 1;
    return n == 0 ? snakeCaseClass : snakeCaseClass + "_" + n;
  }

  /** Creates a VariableV2 with its feed placeholder and assign op and registers it under its Keras path. */
  public Variable<TFloat32> variable(String layerName, String layerClass, String path, long[] shape,
      boolean trainable, boolean kerasWeight, Initializer initializer) {
    if (expectedWeights != null && !Arrays.equals(expectedWeights.get(path), shape)) {
      throw new IllegalStateException("graph: variable " + path + " of " + layerClass + " has shape "
          + Arrays.toString(shape) + ", the Keras description expects " + (expectedWeights.containsKey(path)
          ? Arrays.toString(expectedWeights.get(path)) : "no variable at this path"));
    }
    // Built directly so that each op carries the exact Keras path as its graph name ("conv2d_5/kernel"): Ops'
    // sub-scopes would need one scan of the whole graph per scope, which made building quadratic.
    Shape s = Shape.of(shape);
    Graph graph = (Graph) tf.scope().env();
    Variable<TFloat32> variable = new Variable<>(graph.opBuilder(Variable.OP_NAME, path, tf.scope())
        .setAttr("shape", s).setAttr("dtype", DataType.DT_FLOAT).build());
    Placeholder<TFloat32> feed = new Placeholder<>(graph.opBuilder(Placeholder.OP_NAME, path + "/feed", tf.scope())
        .setAttr("shape", s).setAttr("dtype", DataType.DT_FLOAT).build());
    Assign<TFloat32> assign = new Assign<>(graph.opBuilder(Assign.OP_NAME, path + "/assign", tf.scope())
        .addInput(variable.asOutput()).addInput(feed.asOutput()).build());
    variables.add(new ModelVariable(path, layerName, layerClass, shape.clone(), trainable, kerasWeight, variable,
        feed, assign));
    initializers.add(initializer);
    return variable;
  }

  /**
   * Applies {@code body} in both branches and records the call: a new node, and for the layer's first call its
   * table row and its inference output.
   */
  public Flow call(String layerName, String layerClass, long parameters, List<Flow> inputs,
      BiFunction<Ops, Boolean, Operand<TFloat32>> body) {
    Operand<TFloat32> training = body.apply(ops(layerName, true), true);
    Operand<TFloat32> inference = body.apply(ops(layerName, false), false);
    List<Integer> inbound = inputs.stream().map(Flow::node).toList();
    nodes.add(new Node(layerName, inbound));
    if (!layersByName.containsKey(layerName)) {
      long[] shape = staticShape(inference);
      LayerInfo info = new LayerInfo(layerName, layerClass, Arrays.copyOfRange(shape, 1, shape.length), parameters,
          inputs.stream().map(f -> nodes.get(f.node()).layer()).toList());
      layers.add(info);
      layersByName.put(layerName, info);
      layerOutputs.put(layerName, inference);
    }
    return new Flow(training, inference, nodes.size() - 1);
  }

  /** The network input as a node of its own ({@code input_img}). */
  public Flow input(String name, Operand<TFloat32> input) {
    nodes.add(new Node(name, List.of()));
    long[] shape = staticShape(input);
    LayerInfo info = new LayerInfo(name, "InputLayer", Arrays.copyOfRange(shape, 1, shape.length), 0, List.of());
    layers.add(info);
    layersByName.put(name, info);
    return new Flow(input, input, nodes.size() - 1);
  }

  /** Static shape of an operand; -1 for the batch dimension. */
  public static long[] staticShape(Operand<?> operand) {
    return operand.shape().asArray();
  }

  /**
   * The stateless dropout seed of layer number {@code index}: the fed {@code [2]} seed with a per-layer constant
   * added to its first element, so each Dropout layer draws its own mask from the same fed seed.
   */
  public Operand<TInt64> dropoutSeed(Ops ops, int index) {
    return ops.math.add(dropoutSeed, ops.constant(new long[] {0x9E3779B97F4A7C15L * (index + 1), 0}));
  }

  /** Number given to the next Dropout layer (for its seed). */
  public int nextDropoutIndex() {
    return dropoutLayers++;
  }

  public void addBatchNormUpdate(Op update) {
    batchNormUpdates.add(update);
  }

  public Placeholder<TInt64> dropoutSeedPlaceholder() {
    return dropoutSeed;
  }

  /** Fails when a weight of the Keras description was never created (the end of the graph's construction). */
  public void checkAllCreated() {
    if (expectedWeights == null) {
      return;
    }
    List<String> missing = new ArrayList<>(expectedWeights.keySet());
    variables.forEach(v -> missing.remove(v.path()));
    if (!missing.isEmpty()) {
      throw new IllegalStateException("graph: the Keras description's variables " + missing + " were never created");
    }
  }

  public List<ModelVariable> variables() {
    return Collections.unmodifiableList(variables);
  }

  public List<Initializer> initializers() {
    return Collections.unmodifiableList(initializers);
  }

  public List<LayerInfo> layers() {
    return Collections.unmodifiableList(layers);
  }

  public Map<String, Operand<TFloat32>> layerOutputs() {
    return Collections.unmodifiableMap(layerOutputs);
  }

  public List<Node> nodes() {
    return Collections.unmodifiableList(nodes);
  }

  public List<Op> batchNormUpdates() {
    return Collections.unmodifiableList(batchNormUpdates);
  }

  /** Error naming the layer, Keras style: "conv2d_6 (Conv2D): expected ..., found ...". */
  public static IllegalArgumentException shapeError(String layerName, String layerClass, String expected,
      long[] found) {
    return new IllegalArgumentException(layerName + " (" + layerClass + "): expected input " + expected
        + ", found " + describe(found));
  }

  /** A shape with the batch dimension written as "batch": {@code [batch, 32, 32, 1]}. */
  public static String describe(long[] shape) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(i == 0 && shape[i] < 0 ? "batch" : String.valueOf(shape[i]));
    }
    return sb.append(']').toString();
  }
}
