package dev.bss.train.bench;

import dev.bss.model.ModelConfig;
import dev.bss.model.ModelVariable;
import dev.bss.model.SeparationModel;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Floating-point operations of the network per sample, counted from the graph itself: the model is built at a fixed
 * batch of 1 (so every op has a static shape) together with the gradients of a training-branch loss, and every
 * matrix-multiply-like op is counted at 2 FLOPs per multiply-add:
 *
 * <ul>
 *   <li>{@code Conv2D}, {@code Conv2DBackpropInput}, {@code Conv2DBackpropFilter}: {@code 2 * |conv output| * kh * kw
 *       * in_channels}, where the conv output is the op's output, resp. its {@code out_backprop} input, and
 *       {@code kh * kw * in_channels} comes from the filter shape (a transposed convolution is a
 *       {@code Conv2DBackpropInput});
 *   <li>{@code MatMul}, {@code BatchMatMul*}: {@code 2 * |output| * K}, K the contracted dimension (transposes
 *       honoured).
 * </ul>
 *
 * <p>Elementwise ops, reductions, softmax, normalization and the optimizer are not counted (they are a few percent of
 * the FLOPs, and memory-bound). Inference counts the ops both heads of the inference branch need; training the ops
 * the gradients of the trainable variables need: the training branch's forward pass and the backward pass, without
 * the input image's gradient (built by {@code tf.gradients} but pruned by the session, as nothing consumes it).
 */
public final class FlopCount {

  /**
   * Counted FLOPs of one sample.
   *
   * @param inference inference branch (both heads)
   * @param training one training step's forward and backward pass
   * @param inferenceByOpType inference FLOPs by op type
   * @param trainingByOpType training FLOPs by op type
   */
  public record Flops(long inference, long training, Map<String, Long> inferenceByOpType,
      Map<String, Long> trainingByOpType) {}

  private FlopCount() {}

  /** Counts the FLOPs per sample of {@code config}'s network (builds a throw-away graph). */
  public static Flops of(ModelConfig config) {
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      SeparationModel model = SeparationModel.build(tf, config,
          Shape.of(1, ModelConfig.IMAGE_SIZE, ModelConfig.IMAGE_SIZE, 1));
      Ops train = tf.withSubScope("training");
      Operand<TFloat32> loss = train.math.add(
          train.math.mean(train.math.square(model.decoded1(true)), train.constant(new int[] {0, 1, 2, 3})),
          train.math.mean(train.math.square(model.decoded2(true)), train.constant(new int[] {0, 1, 2, 3})));
      List<Operand<?>> trainable = new ArrayList<>();
      for (ModelVariable v : model.variables().trainable()) {
        trainable.add(v.variable());
      }
      var gradients = train.gradients(loss, trainable);
      Set<Operand<?>> trainingOutputs = new HashSet<>();
      for (int i = 0; i < trainable.size(); i++) {
        trainingOutputs.add(gradients.dy(i));
      }
      Set<Operand<?>> inferenceOutputs = Set.of(model.decoded1(false), model.decoded2(false));
      Map<String, Long> inference = byOpType(needed(inferenceOutputs));
      Map<String, Long> training = byOpType(needed(trainingOutputs));
      return new Flops(sum(inference), sum(training), inference, training);
    }
  }

  /** Every op that computing {@code outputs} runs: their inputs and control inputs, transitively. */
  public static Set<GraphOperation> needed(Collection<? extends Operand<?>> outputs) {
    Set<GraphOperation> seen = new HashSet<>();
    Deque<GraphOperation> todo = new ArrayDeque<>();
    for (Operand<?> o : outputs) {
      todo.add((GraphOperation) o.op());
    }
    while (!todo.isEmpty()) {
      GraphOperation op = todo.pop();
      if (seen.add(op)) {
        for (int i = 0; i < op.numInputs(); i++) {
          todo.add((GraphOperation) op.input(i).op());
        }
        todo.addAll(op.controlInputs());
      }
    }
    return seen;
  }

  /**
   * Counted FLOPs of {@code ops}, by op type; pass the ops a run needs ({@link #needed}), since a session
   * prunes the rest (e.g. the input image's gradient, which {@code tf.gradients} builds but nothing consumes).
   */
  public static Map<String, Long> byOpType(Collection<GraphOperation> ops) {
    Map<String, Long> byType = new TreeMap<>();
    for (GraphOperation op : ops) {
      long flops = flops(op);
      if (flops > 0) {
        byType.merge(op.type(), flops, Long::sum);
      }
    }
    return byType;
  }

  /** FLOPs of one op (0 for the op types not counted); fails on an unknown shape rather than guess. */
  static long flops(GraphOperation op) {
    switch (op.type()) {
      case "Conv2D":
        return 2 * elements(op, op.output(0)) * perOutput(op, op.input(1).shape());
      case "Conv2DBackpropInput":
        return 2 * elements(op, op.input(2)) * perOutput(op, op.input(1).shape());
      case "Conv2DBackpropFilter":
        return 2 * elements(op, op.input(2)) * perOutput(op, op.output(0).shape());
      case "MatMul": {
        long[] a = dims(op, op.input(0));
        boolean transposed = op.attributes().getAttrBool("transpose_a");
        return 2 * elements(op, op.output(0)) * (transposed ? a[0] : a[1]);
      }
      case "BatchMatMul":
      case "BatchMatMulV2":
      case "BatchMatMulV3": {
        long[] x = dims(op, op.input(0));
        boolean adjoint = op.attributes().getAttrBool("adj_x");
        return 2 * elements(op, op.output(0)) * (adjoint ? x[x.length - 2] : x[x.length - 1]);
      }
      default:
        return 0;
    }
  }

  /** Multiply-adds per output element of a convolution: {@code kh * kw * in} of a filter {@code [kh, kw, in, out]}. */
  private static long perOutput(GraphOperation op, Shape filter) {
    long[] f = filter.asArray();
    if (f == null || f.length != 4 || f[0] < 0 || f[1] < 0 || f[2] < 0) {
      throw new IllegalStateException(op.name() + " (" + op.type() + "): filter shape unknown: " + filter);
    }
    return f[0] * f[1] * f[2];
  }

  private static long elements(GraphOperation op, Output<?> output) {
    long n = 1;
    for (long d : dims(op, output)) {
      n *= d;
    }
    return n;
  }

  private static long[] dims(GraphOperation op, Output<?> output) {
    long[] s = output.shape().asArray();
    if (s == null) {
      throw new IllegalStateException(op.name() + " (" + op.type() + "): shape of rank unknown");
    }
    for (long d : s) {
      if (d < 0) {
        throw new IllegalStateException(op.name() + " (" + op.type() + "): shape not static: " + output.shape());
      }
    }
    return s;
  }

  /** The total of a by-type count. */
  public static long sum(Map<String, Long> byType) {
    return byType.values().stream().mapToLong(Long::longValue).sum();
  }
}
