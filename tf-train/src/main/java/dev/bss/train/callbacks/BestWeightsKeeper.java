package dev.bss.train.callbacks;

/**
 * Remembers the epoch with the lowest monitored value, whose weights the loop keeps and restores after training.
 *
 * <p>Ports the seed's best-weights callback (strictly lower {@code loss} wins; the first epoch always does). The
 * weights themselves live with the loop (in memory and as the {@code best} checkpoint); this class decides.
 */
public final class BestWeightsKeeper {

  /**
   * What a checkpoint keeps of the keeper.
   *
   * @param best the lowest monitored value (+infinity before the first epoch)
   * @param bestEpoch 0-based epoch of {@code best}, or -1
   */
  public record State(double best, int bestEpoch) {}

  private double best = Double.POSITIVE_INFINITY;
  private int bestEpoch = -1;

  /** Sees the end of epoch {@code epoch} (0-based); true when its weights are the new best to keep. */
  public boolean onEpochEnd(int epoch, double current) {
    if (current < best) {
      best = current;
      bestEpoch = epoch;
      return true;
    }
    return false;
  }

  public double best() {
    return best;
  }

  /** 0-based epoch of the kept weights, or -1 before any epoch improved. */
  public int bestEpoch() {
    return bestEpoch;
  }

  /** The mutable state, for checkpoints. */
  public State state() {
    return new State(best, bestEpoch);
  }

  /** Continues from a {@link #state()}. */
  public void restore(State state) {
    best = state.best();
    bestEpoch = state.bestEpoch();
  }
}
