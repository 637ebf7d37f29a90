package dev.bss.model.layers;

import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Max;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The Keras layers without weights the network uses (Reshape, Add, Multiply, Concatenate, Activation, MaxPooling2D,
 * GlobalAveragePooling2D, GlobalMaxPooling2D and the CBAM channel mean/max Lambdas); they matter for the auto names
 * and the layer-by-layer parity checks.
 */
public final class ParameterFreeLayer extends KerasLayer {

  /** Ops of one branch of a parameter-free layer. */
  @FunctionalInterface
  public interface Body {
    Operand<TFloat32> apply(Ops ops, List<Operand<TFloat32>> inputs);
  }

  /** Input check; throws naming the layer. */
  @FunctionalInterface
  private interface Check {
    void check(ParameterFreeLayer layer, List<long[]> shapes);
  }

  private final Body body;
  private final Check check;

  private ParameterFreeLayer(GraphContext context, String kerasClass, String snakeCaseClass, Body body, Check check) {
    super(context, kerasClass, snakeCaseClass, null);
    this.body = body;
    this.check = check;
  }

  @Override
  protected void validate(List<long[]> shapes) {
    check.check(this, shapes);
  }

  @Override
  protected Operand<TFloat32> call(Ops ops, List<Operand<TFloat32>> inputs, boolean training) {
    return body.apply(ops, inputs);
  }

  /** Keras {@code Reshape(target)}: row-major, batch kept. */
  public static ParameterFreeLayer reshape(GraphContext context, long... target) {
    return new ParameterFreeLayer(context, "Reshape", "reshape", (ops, in) -> reshape(ops, in.get(0), target),
        (layer, shapes) -> {
          long[] s = shapes.get(0);
          if (perSample(s) != perSample(prepend(target))) {
            throw layer.inputError("a tensor of " + perSample(prepend(target)) + " values per sample for "
                + GraphContext.describe(prepend(target)), s);
          }
        });
  }

  /** Keras {@code Add()} of two tensors of one shape. */
  public static ParameterFreeLayer add(GraphContext context) {
    return new ParameterFreeLayer(context, "Add", "add", (ops, in) -> ops.math.add(in.get(0), in.get(1)),
        ParameterFreeLayer::sameShapes);
  }

  /** Keras {@code Multiply()}; the second input may broadcast (CBAM's attention maps). */
  public static ParameterFreeLayer multiply(GraphContext context) {
    return new ParameterFreeLayer(context, "Multiply", "multiply", (ops, in) -> ops.math.mul(in.get(0), in.get(1)),
        ParameterFreeLayer::broadcastable);
  }

  /** Keras {@code concatenate} on the channel axis of NHWC tensors. */
  public static ParameterFreeLayer concatenate(GraphContext context) {
    return new ParameterFreeLayer(context, "Concatenate", "concatenate",
        (ops, in) -> ops.concat(in, ops.constant(-1)), (layer, shapes) -> {
          long[] a = shapes.get(0);
          for (long[] b : shapes) {
            if (b.length != a.length || !Arrays.equals(Arrays.copyOf(a, a.length - 1), Arrays.copyOf(b, b.length - 1))) {
              throw layer.inputError("inputs that agree on every axis but the last, first is "
                  + GraphContext.describe(a), b);
            }
          }
        });
  }

  /** Keras {@code Activation("sigmoid")}. */
  public static ParameterFreeLayer sigmoid(GraphContext context) {
    return new ParameterFreeLayer(context, "Activation", "activation", (ops, in) -> ops.math.sigmoid(in.get(0)),
        (layer, shapes) -> { });
  }

  /** Keras {@code MaxPooling2D((2, 2), padding="same")}. */
  public static ParameterFreeLayer maxPooling(GraphContext context) {
    return new ParameterFreeLayer(context, "MaxPooling2D", "max_pooling2d",
        (ops, in) -> ops.nn.maxPool(in.get(0), ops.constant(new int[] {1, 2, 2, 1}),
            ops.constant(new int[] {1, 2, 2, 1}), "SAME"), ParameterFreeLayer::rank4);
  }

  /** Keras {@code GlobalAveragePooling2D()}: {@code [batch, h, w, c] -> [batch, c]}. */
  public static ParameterFreeLayer globalAveragePooling(GraphContext context) {
    return new ParameterFreeLayer(context, "GlobalAveragePooling2D", "global_average_pooling2d",
        (ops, in) -> ops.math.mean(in.get(0), spatialAxes(ops)), ParameterFreeLayer::rank4);
  }

  /** Keras {@code GlobalMaxPooling2D()}: {@code [batch, h, w, c] -> [batch, c]}. */
  public static ParameterFreeLayer globalMaxPooling(GraphContext context) {
    return new ParameterFreeLayer(context, "GlobalMaxPooling2D", "global_max_pooling2d",
        (ops, in) -> ops.max(in.get(0), spatialAxes(ops)), ParameterFreeLayer::rank4);
  }

  /** CBAM's {@code Lambda(lambda x: ops.mean(x, axis=3, keepdims=True))}. */
  public static ParameterFreeLayer channelMean(GraphContext context) {
    return new ParameterFreeLayer(context, "Lambda", "lambda",
        (ops, in) -> ops.math.mean(in.get(0), ops.constant(new int[] {3}), Mean.keepDims(true)),
        ParameterFreeLayer::rank4);
  }

  /** CBAM's {@code Lambda(lambda x: ops.max(x, axis=3, keepdims=True))}. */
  public static ParameterFreeLayer channelMax(GraphContext context) {
    return new ParameterFreeLayer(context, "Lambda", "lambda",
        (ops, in) -> ops.max(in.get(0), ops.constant(new int[] {3}), Max.keepDims(true)),
        ParameterFreeLayer::rank4);
  }

  private static Operand<TInt32> spatialAxes(Ops ops) {
    return ops.constant(new int[] {1, 2});
  }

  private static void rank4(ParameterFreeLayer layer, List<long[]> shapes) {
    long[] s = shapes.get(0);
    if (s.length != 4) {
      throw layer.inputError("[batch, height, width, channels]", s);
    }
  }

  private static void sameShapes(ParameterFreeLayer layer, List<long[]> shapes) {
    for (long[] s : shapes) {
      if (!Arrays.equals(Arrays.copyOfRange(s, 1, s.length),
          Arrays.copyOfRange(shapes.get(0), 1, shapes.get(0).length))) {
        throw layer.inputError("inputs of one shape " + GraphContext.describe(shapes.get(0)), s);
      }
    }
  }

  private static void broadcastable(ParameterFreeLayer layer, List<long[]> shapes) {
    long[] a = shapes.get(0);
    long[] b = shapes.get(1);
    boolean ok = a.length == b.length;
    for (int i = 1; ok && i < a.length; i++) {
      ok = a[i] == b[i] || b[i] == 1;
    }
    if (!ok) {
      throw layer.inputError("a second input that broadcasts to " + GraphContext.describe(a), b);
    }
  }

  /** Values per sample of a shape whose first dimension is the batch. */
  private static long perSample(long[] s) {
    long n = 1;
    for (int i = 1; i < s.length; i++) {
      n *= s[i];
    }
    return n;
  }

  private static long[] prepend(long[] target) {
    long[] out = new long[target.length + 1];
    out[0] = -1;
    System.arraycopy(target, 0, out, 1, target.length);
    return out;
  }
}
