package dev.bss.model.layers;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;

/**
 * Keras {@code LayerNormalization} over the last axis of {@code [batch, tokens, d]} (shape kept): gamma and beta
 * {@code [d]}, biased variance, the config's epsilon (1e-6 in the seed).
 */
public final class LayerNormalization extends KerasLayer {

  private final float epsilon;
  private long features = -1;
  private Variable<TFloat32> gamma;
  private Variable<TFloat32> beta;

  public LayerNormalization(GraphContext context, double epsilon) {
    super(context, "LayerNormalization", "layer_normalization", null);
    this.epsilon = (float) epsilon;
  }

  @Override
  protected void build(List<long[]> shapes) {
    validate(shapes);
    features = last(shapes.get(0));
    gamma = addWeight("gamma", new long[] {features}, true, Initializer.ONES);
    beta = addWeight("beta", new long[] {features}, true, Initializer.ZEROS);
  }

  @Override
  protected void validate(List<long[]> shapes) {
    long[] s = shapes.get(0);
    if (s.length < 2 || last(s) <= 0 || (features > 0 && last(s) != features)) {
      throw inputError("[batch, ..., " + (features > 0 ? features : "features") + "]", s);
    }
  }

  @Override
  protected Operand<TFloat32> call(Ops ops, List<Operand<TFloat32>> inputs, boolean training) {
    Operand<TFloat32> x = inputs.get(0);
    Operand<org.tensorflow.types.TInt32> axis = ops.constant(new int[] {-1});
    Operand<TFloat32> mean = ops.math.mean(x, axis, Mean.keepDims(true));
    Operand<TFloat32> variance = ops.math.mean(ops.math.squaredDifference(x, mean), axis, Mean.keepDims(true));
    Operand<TFloat32> inv = ops.math.mul(ops.math.rsqrt(ops.math.add(variance, ops.constant(epsilon))), gamma);
    return ops.math.add(ops.math.mul(x, inv), ops.math.sub(beta, ops.math.mul(mean, inv)));
  }
}
