package dev.bss.model.layers;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TFloat32;

/**
 * Keras 3 {@code BatchNormalization} on the channel axis of {@code [batch, h, w, c]} (shape kept): gamma, beta,
 * moving_mean, moving_variance, each {@code [c]}; momentum 0.99, epsilon 1e-3.
 *
 * <p>Training branch: normalization with the batch mean and the biased batch variance over (batch, h, w), plus
 * an update op {@code moving = moving * 0.99 + stat * 0.01} registered with the context, both as Keras 3's
 * {@code ops.moments} ({@code E[x^2] - E[x]^2}) + {@code batch_normalization}. Inference branch: moving statistics,
 * elementwise as Keras writes it.
 *
 * <p>TensorFlow's fused kernel ({@code FusedBatchNormV3}) would be faster, but was measured and not kept: its variance
 * is computed in another float order than Keras's formula, which moves the weights after one step of
 * {@code ../shared/keras-training/tiny-A} past the tolerance (0.0160 relative update error against 0.01), and
 * on the quick preset's seed 2 its moving statistics left the evaluation MSE 33% above this formula's. Under bf16 the
 * formula runs in float32, as Keras 3's BatchNormalization does under {@code mixed_bfloat16}.
 *
 * <p>The training branch's gradient is the closed form of {@link BatchNormGradient}, not TensorFlow's op-by-op
 * derivation of the formula; the forward values are the formula's, bit for bit.
 */
public final class BatchNormalization extends KerasLayer {

  /** Keras default momentum. */
  public static final float MOMENTUM = 0.99f;
  /** Keras default epsilon. */
  public static final float EPSILON = 1e-3f;

  private long channels = -1;
  private Variable<TFloat32> gamma;
  private Variable<TFloat32> beta;
  private Variable<TFloat32> movingMean;
  private Variable<TFloat32> movingVariance;

  public BatchNormalization(GraphContext context) {
    super(context, "BatchNormalization", "batch_normalization", null);
  }

  @Override
  protected void build(List<long[]> shapes) {
    validate(shapes);
    channels = last(shapes.get(0));
    long[] c = {channels};
    gamma = addWeight("gamma", c, true, Initializer.ONES);
    beta = addWeight("beta", c, true, Initializer.ZEROS);
    movingMean = addWeight("moving_mean", c, false, Initializer.ZEROS);
    movingVariance = addWeight("moving_variance", c, false, Initializer.ONES);
  }

  @Override
  protected void validate(List<long[]> shapes) {
    long[] s = shapes.get(0);
    if (s.length != 4 || last(s) <= 0 || (channels > 0 && last(s) != channels)) {
      throw inputError("[batch, height, width, " + (channels > 0 ? channels : "channels") + "]", s);
    }
  }

  @Override
  protected Operand<TFloat32> call(Ops ops, List<Operand<TFloat32>> inputs, boolean training) {
    Operand<TFloat32> x = inputs.get(0);
    if (!training) {
      return normalize(ops, x, movingMean, movingVariance, gamma, beta);
    }
    Statistics batch = training(ops, x, gamma, beta);
    context.addBatchNormUpdate(ops.withName("update_moving_mean").assign(movingMean,
        movingAverage(ops, movingMean, batch.mean())));
    context.addBatchNormUpdate(ops.withName("update_moving_variance").assign(movingVariance,
        movingAverage(ops, movingVariance, batch.variance())));
    return BatchNormGradient.attach(ops, name(), batch.output(), x, gamma, beta, batch.mean(), batch.variance());
  }

  /**
   * Output and batch statistics of the training branch.
   *
   * @param output normalized {@code [batch, h, w, c]}
   * @param mean batch mean {@code [c]}
   * @param variance biased batch variance {@code [c]} (Keras's)
   */
  record Statistics(Operand<TFloat32> output, Operand<TFloat32> mean, Operand<TFloat32> variance) {}

  /** The training branch written out as Keras's {@code ops.moments} + {@code batch_normalization}. */
  static Statistics training(Ops ops, Operand<TFloat32> x, Operand<TFloat32> gamma, Operand<TFloat32> beta) {
    Operand<TInt32> axes = ops.constant(new int[] {0, 1, 2});
    Operand<TFloat32> mean = ops.math.mean(x, axes);
    // Keras 3's moments (every backend): Var = E[x^2] - E[x]^2. Not mean((x - mean)^2): on near-constant channels
    // the two differ in float32 enough to move step-1 gradients by 1e-3 (keras-training/tiny-A; 4e-6 with this one).
    Operand<TFloat32> variance = ops.math.sub(ops.math.mean(ops.math.square(x), axes), ops.math.square(mean));
    return new Statistics(normalize(ops, x, mean, variance, gamma, beta), mean, variance);
  }

  /**
   * Keras 3 rule: {@code moving * momentum + statistic * (1 - momentum)}, with {@code 1 - momentum} computed in
   * float32 as Keras does ({@code 1f - 0.99f} = 0.0099999998, not {@code (float) (1.0 - 0.99f)} = 0.00999999046).
   */
  static Operand<TFloat32> movingAverage(Ops ops, Operand<TFloat32> moving, Operand<TFloat32> statistic) {
    return ops.math.add(ops.math.mul(moving, ops.constant(MOMENTUM)),
        ops.math.mul(ops.stopGradient(statistic), ops.constant(1f - MOMENTUM)));
  }

  /** {@code (x - mean) / sqrt(variance + eps) * gamma + beta}, written as Keras's {@code x * inv + (beta - mean * inv)}. */
  static Operand<TFloat32> normalize(Ops ops, Operand<TFloat32> x, Operand<TFloat32> mean,
      Operand<TFloat32> variance, Operand<TFloat32> gamma, Operand<TFloat32> beta) {
    Operand<TFloat32> inv = ops.math.mul(ops.math.rsqrt(ops.math.add(variance, ops.constant(EPSILON))), gamma);
    return ops.math.add(ops.math.mul(x, inv), ops.math.sub(beta, ops.math.mul(mean, inv)));
  }
}
