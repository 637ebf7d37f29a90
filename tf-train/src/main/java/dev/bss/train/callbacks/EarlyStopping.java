package dev.bss.train.callbacks;

/**
 * Stops training when the monitored value (the epoch's training {@code loss}) stops improving.
 *
 * <p>Ports {@code keras.callbacks.EarlyStopping(monitor, patience, min_delta, mode='min')} of Keras 3 without
 * baseline or start_from_epoch; restoring the best weights is {@link BestWeightsKeeper}'s job. At each epoch end:
 * {@code wait += 1}; if {@code current + |min_delta| < best} then {@code best = current}, {@code wait = 0};
 * otherwise, if {@code wait >= patience} and {@code epoch > 0}, training stops.
 */
public final class EarlyStopping {

  /**
   * What a checkpoint keeps of an EarlyStopping.
   *
   * @param waitCount epochs without improvement
   * @param best the best monitored value (+infinity before the first epoch)
   * @param bestEpoch 0-based epoch of {@code best}
   * @param stoppedEpoch 0-based epoch at which training was stopped, or -1
   */
  public record State(int waitCount, double best, int bestEpoch, int stoppedEpoch) {}

  private final int patience;
  private final double minDelta;
  private int wait;
  private double best = Double.POSITIVE_INFINITY;
  private int bestEpoch;
  private int stoppedEpoch = -1;

  public EarlyStopping(int patience, double minDelta) {
    if (patience < 0) {
      throw new IllegalArgumentException("EarlyStopping: patience must be >= 0, found " + patience);
    }
    this.patience = patience;
    // Keras: min_delta = abs(min_delta), subtracted with its sign flipped for mode 'min'.
    this.minDelta = Math.abs(minDelta);
  }

  /**
   * Sees the end of epoch {@code epoch} (0-based) with the monitored value; returns true when training must stop.
   * A NaN never improves (every comparison with it is false, as in Keras).
   */
  public boolean onEpochEnd(int epoch, double current) {
    wait += 1;
    if (current + minDelta < best) {
      best = current;
      bestEpoch = epoch;
      wait = 0;
      return false;
    }
    if (wait >= patience && epoch > 0) {
      stoppedEpoch = epoch;
      return true;
    }
    return false;
  }

  public int waitCount() {
    return wait;
  }

  public double best() {
    return best;
  }

  /** 0-based epoch of the best value so far. */
  public int bestEpoch() {
    return bestEpoch;
  }

  /** 0-based epoch at which training was stopped, or -1. */
  public int stoppedEpoch() {
    return stoppedEpoch;
  }

  /** The mutable state, for checkpoints. */
  public State state() {
    return new State(wait, best, bestEpoch, stoppedEpoch);
  }

  /** Continues from a {@link #state()}. */
  public void restore(State state) {
    wait = state.waitCount();
    best = state.best();
    bestEpoch = state.bestEpoch();
    stoppedEpoch = state.stoppedEpoch();
  }
}
