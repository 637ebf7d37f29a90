package dev.bss.model.layers;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Keras {@code Dropout} (shape kept): inverted dropout in the training branch only, identity in inference.
 *
 * <p>The mask comes from a stateless uniform draw seeded by the model's fed {@code dropout_seed} plus a per-layer
 * constant, so a training step's masks depend only on the fed seed: a resumed run repeats them exactly. Keras
 * draws from a stateful seed generator instead; the masks differ, the distribution is the same.
 */
public final class Dropout extends KerasLayer {

  private final float rate;
  private final int seedIndex;

  public Dropout(GraphContext context, double rate) {
    super(context, "Dropout", "dropout", null);
    this.rate = (float) rate;
    this.seedIndex = context.nextDropoutIndex();
  }

  @Override
  protected Operand<TFloat32> call(Ops ops, List<Operand<TFloat32>> inputs, boolean training) {
    Operand<TFloat32> x = inputs.get(0);
    if (!training || rate == 0f) {
      return ops.identity(x);
    }
    Operand<TFloat32> uniform = ops.random.statelessRandomUniform(ops.shape(x),
        context.dropoutSeed(ops, seedIndex), TFloat32.class);
    Operand<TFloat32> keep = ops.dtypes.cast(ops.math.greaterEqual(uniform, ops.constant(rate)), TFloat32.class);
    return ops.math.mul(x, ops.math.mul(keep, ops.constant(1f / (1f - rate))));
  }
}
