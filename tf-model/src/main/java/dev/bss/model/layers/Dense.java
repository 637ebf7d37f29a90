package dev.bss.model.layers;

import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Keras {@code Dense} on the last axis of any rank: {@code [batch, ..., in] -> [batch, ..., units]}; kernel
 * {@code [in, units]}, bias {@code [units]}.
 */
public final class Dense extends KerasLayer {

  private final int units;
  private final Activation activation;
  private final Initializer kernelInitializer;
  private long[] inputShape;
  private Variable<TFloat32> kernel;
  private Variable<TFloat32> bias;

  public Dense(GraphContext context, int units, Activation activation, Initializer kernelInitializer) {
    super(context, "Dense", "dense", null);
    this.units = units;
    this.activation = activation;
    this.kernelInitializer = kernelInitializer;
  }

  public Dense(GraphContext context, int units, Activation activation) {
    this(context, units, activation, Initializer.GLOROT_UNIFORM);
  }

  @Override
  protected void build(List<long[]> shapes) {
    validate(shapes);
    inputShape = shapes.get(0).clone();
    kernel = addWeight("kernel", new long[] {last(inputShape), units}, true, kernelInitializer);
    bias = addWeight("bias", new long[] {units}, true, Initializer.ZEROS);
  }

  @Override
  protected void validate(List<long[]> shapes) {
    long[] s = shapes.get(0);
    boolean ok = s.length >= 2 && Arrays.stream(s, 1, s.length).allMatch(d -> d > 0);
    if (!ok || (inputShape != null && last(s) != last(inputShape))) {
      throw inputError("[batch, ..., " + (inputShape != null ? last(inputShape) : "features") + "]", s);
    }
  }

  @Override
  protected Operand<TFloat32> call(Ops ops, List<Operand<TFloat32>> inputs, boolean training) {
    Operand<TFloat32> x = inputs.get(0);
    long[] s = inputShape;
    Operand<TFloat32> flat = s.length == 2 ? x : ops.reshape(x, ops.constant(new long[] {-1, last(s)}));
    Operand<TFloat32> y = ops.nn.biasAdd(ops.linalg.matMul(flat, kernel), bias);
    y = activation.apply(ops, y);
    if (s.length == 2) {
      return y;
    }
    long[] out = Arrays.copyOfRange(s, 1, s.length);
    out[out.length - 1] = units;
    return reshape(ops, y, out);
  }
}
