package dev.bss.train.callbacks;

/**
 * Lowers the learning rate when the monitored value stops improving by at least {@code minDelta}.
 *
 * <p>Ports {@code keras.callbacks.ReduceLROnPlateau(monitor, factor, patience, min_lr, min_delta, cooldown,
 * mode='min')} of Keras 3. At each epoch end: if in cooldown, {@code cooldown_counter -= 1} and {@code wait = 0};
 * if {@code current < best - min_delta}, {@code best = current}, {@code wait = 0}; else, when not in cooldown,
 * {@code wait += 1} and when {@code wait >= patience} and {@code lr > float32(min_lr)}:
 * {@code lr = max(lr * factor, min_lr)}, {@code cooldown_counter = cooldown}, {@code wait = 0}. The learning rate
 * is a float32 variable in Keras, so each new value is rounded to float32.
 */
public final class ReduceLrOnPlateau {

  /**
   * What a checkpoint keeps of a ReduceLROnPlateau (the learning rate itself is the loop's).
   *
   * @param waitCount epochs without improvement since the last reduction
   * @param cooldownCounter epochs of cooldown left
   * @param best the best monitored value (+infinity before the first epoch)
   */
  public record State(int waitCount, int cooldownCounter, double best) {}

  private final double factor;
  private final int patience;
  private final double minLr;
  private final double minDelta;
  private final int cooldown;
  private int wait;
  private int cooldownCounter;
  private double best = Double.POSITIVE_INFINITY;

  public ReduceLrOnPlateau(double factor, int patience, double minLr, double minDelta, int cooldown) {
    if (!(factor < 1.0) || !(factor >= 0)) {
      throw new IllegalArgumentException("ReduceLROnPlateau: factor must be in [0, 1), found " + factor);
    }
    if (patience < 0 || cooldown < 0) {
      throw new IllegalArgumentException("ReduceLROnPlateau: patience and cooldown must be >= 0, found "
          + patience + " and " + cooldown);
    }
    this.factor = factor;
    this.patience = patience;
    this.minLr = minLr;
    this.minDelta = minDelta;
    this.cooldown = cooldown;
  }

  /** The seed's rule: factor 0.5, patience 5, min_lr 1e-6, min_delta 1e-4, cooldown 0. */
  public static ReduceLrOnPlateau seed() {
    return new ReduceLrOnPlateau(0.5, 5, 1e-6, 1e-4, 0);
  }

  /** Sees the end of an epoch with the monitored value and the learning rate used; returns the next epoch's rate. */
  public float onEpochEnd(double current, float learningRate) {
    if (cooldownCounter > 0) {
      cooldownCounter -= 1;
      wait = 0;
    }
    if (current < best - minDelta) {
      best = current;
      wait = 0;
    } else if (cooldownCounter <= 0) {
      wait += 1;
      if (wait >= patience && learningRate > (float) minLr) {
        float next = (float) Math.max((double) learningRate * factor, minLr);
        cooldownCounter = cooldown;
        wait = 0;
        return next;
      }
    }
    return learningRate;
  }

  public int waitCount() {
    return wait;
  }

  public double best() {
    return best;
  }

  /** The mutable state, for checkpoints. */
  public State state() {
    return new State(wait, cooldownCounter, best);
  }

  /** Continues from a {@link #state()}. */
  public void restore(State state) {
    wait = state.waitCount();
    cooldownCounter = state.cooldownCounter();
    best = state.best();
  }
}
