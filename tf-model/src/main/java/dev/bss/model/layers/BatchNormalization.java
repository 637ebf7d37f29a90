package dev.bss.model.layers;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TFloat32;

/**
 * Keras 3 {@code BatchNormalization} on the channel axis of {@code [batch, h, w, c]} (shape kept): gamma, beta,
 * moving_mean, moving_variance, each {@code [c]}; momentum 0.99, epsilon 1e-3.
 *
 * <p>Training branch: normalization with the batch mean and the biased batch variance over (batch, h, w), plus
 * an update op {@code moving = moving * 0.99 + stat * 0.01} registered with the context, both as Keras 3's
 * {@code ops.moments} + {@code batch_normalization}; computed by TensorFlow's fused kernel ({@code FusedBatchNormV3},
 * one pass forward and one {@code FusedBatchNormGradV3} backward, instead of ~10 elementwise ops and reductions
 * each way). Inference branch: moving statistics, elementwise as Keras writes it (unchanged for parity).
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
    Statistics fused = fusedTraining(ops, x, gamma, beta);
    context.addBatchNormUpdate(ops.withName("update_moving_mean").assign(movingMean,
        movingAverage(ops, movingMean, fused.mean())));
    context.addBatchNormUpdate(ops.withName("update_moving_variance").assign(movingVariance,
        movingAverage(ops, movingVariance, fused.variance())));
    return fused.output();
  }

  /**
   * Output and batch statistics of the training branch.
   *
   * @param output normalized {@code [batch, h, w, c]}
   * @param mean batch mean {@code [c]}
   * @param variance biased batch variance {@code [c]} (Keras's)
   */
  record Statistics(Operand<TFloat32> output, Operand<TFloat32> mean, Operand<TFloat32> variance) {}

  /**
   * The training branch through {@code FusedBatchNormV3} (NHWC, is_training): its output is normalized with the
   * biased variance, as Keras's; its {@code batch_variance} output is Bessel-corrected ({@code * n / (n - 1)},
   * n = batch * h * w), so it is scaled back by {@code (n - 1) / n} for the moving variance.
   */
  static Statistics fusedTraining(Ops ops, Operand<TFloat32> x, Operand<TFloat32> gamma, Operand<TFloat32> beta) {
    Operand<TFloat32> empty = ops.constant(new float[0]);
    FusedBatchNorm<TFloat32, TFloat32> bn = ops.nn.fusedBatchNorm(x, gamma, beta, empty, empty,
        FusedBatchNorm.epsilon(EPSILON), FusedBatchNorm.isTraining(true), FusedBatchNorm.dataFormat("NHWC"));
    // Keras: biased variance; n counts the values per channel (the batch is dynamic, so it is read from x).
    Operand<TFloat32> n = ops.dtypes.cast(ops.math.div(ops.size(x, TInt64.class),
        ops.gather(ops.shape(x, TInt64.class), ops.constant(3), ops.constant(0))), TFloat32.class);
    Operand<TFloat32> biased = ops.math.mul(bn.batchVariance(),
        ops.math.div(ops.math.sub(n, ops.constant(1f)), n));
    return new Statistics(bn.y(), bn.batchMean(), biased);
  }

  /**
   * The training branch written out as Keras's {@code ops.moments} + {@code batch_normalization}: the reference the
   * fused kernel is tested against.
   */
  static Statistics unfusedTraining(Ops ops, Operand<TFloat32> x, Operand<TFloat32> gamma, Operand<TFloat32> beta) {
    Operand<TInt32> axes = ops.constant(new int[] {0, 1, 2});
    Operand<TFloat32> mean = ops.math.mean(x, axes);
    Operand<TFloat32> variance = ops.math.mean(ops.math.squaredDifference(x, mean), axes);
    return new Statistics(normalize(ops, x, mean, variance, gamma, beta), mean, variance);
  }

  /** Keras 3 rule: {@code moving * momentum + statistic * (1 - momentum)}. */
  static Operand<TFloat32> movingAverage(Ops ops, Operand<TFloat32> moving, Operand<TFloat32> statistic) {
    return ops.math.add(ops.math.mul(moving, ops.constant(MOMENTUM)),
        ops.math.mul(ops.stopGradient(statistic), ops.constant((float) (1.0 - MOMENTUM))));
  }

  /** {@code (x - mean) / sqrt(variance + eps) * gamma + beta}, written as Keras's {@code x * inv + (beta - mean * inv)}. */
  static Operand<TFloat32> normalize(Ops ops, Operand<TFloat32> x, Operand<TFloat32> mean,
      Operand<TFloat32> variance, Operand<TFloat32> gamma, Operand<TFloat32> beta) {
    Operand<TFloat32> inv = ops.math.mul(ops.math.rsqrt(ops.math.add(variance, ops.constant(EPSILON))), gamma);
    return ops.math.add(ops.math.mul(x, inv), ops.math.sub(beta, ops.math.mul(mean, inv)));
  }
}
