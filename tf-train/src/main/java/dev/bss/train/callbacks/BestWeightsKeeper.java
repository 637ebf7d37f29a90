package dev.bss.train.callbacks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers the epoch with the lowest monitored value, whose weights the loop keeps and restores after training.
 *
 * <p>Ports the seed's best-weights callback (strictly lower {@code loss} wins; the first epoch always does). The
 * weights themselves live with the loop (in memory and as the {@code best} checkpoint); this class decides.
 */
public final class BestWeightsKeeper {

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
  public Map<String, Object> state() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("best", CallbackState.encode(best));
    m.put("best_epoch", bestEpoch);
    return m;
  }

  /** Restores a {@link #state()}. */
  public void restore(Map<String, ?> state) {
    best = CallbackState.doubleOf(state, "best");
    bestEpoch = CallbackState.intOf(state, "best_epoch");
  }
}
