package dev.bss.train.loop;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The knobs of the two callbacks of the seed, with Keras's values as the seed used them:
 * {@code EarlyStopping(monitor="loss", patience)} and
 * {@code ReduceLROnPlateau(monitor="loss", factor, patience, min_lr, min_delta)} (cooldown 0, mode min).
 *
 * @param earlyStoppingPatience EarlyStopping patience (seed: 5)
 * @param reduceLrPatience ReduceLROnPlateau patience (seed: 5)
 * @param reduceLrFactor ReduceLROnPlateau factor, in (0, 1) (seed: 0.5)
 * @param reduceLrMinDelta ReduceLROnPlateau min_delta, >= 0 (seed: 1e-4)
 * @param minLr ReduceLROnPlateau min_lr, >= 0 (seed: 1e-6)
 */
public record CallbackSettings(int earlyStoppingPatience, int reduceLrPatience, double reduceLrFactor,
    double reduceLrMinDelta, double minLr) {

  public CallbackSettings {
    if (earlyStoppingPatience < 0) {
      throw new IllegalArgumentException("--early-stopping-patience: expected an integer >= 0, found "
          + earlyStoppingPatience);
    }
    if (reduceLrPatience < 0) {
      throw new IllegalArgumentException("--reduce-lr-patience: expected an integer >= 0, found " + reduceLrPatience);
    }
    if (!(reduceLrFactor > 0 && reduceLrFactor < 1)) {
      throw new IllegalArgumentException("--reduce-lr-factor: expected a number in (0, 1), found " + reduceLrFactor);
    }
    if (!(reduceLrMinDelta >= 0) || !Double.isFinite(reduceLrMinDelta)) {
      throw new IllegalArgumentException("--reduce-lr-min-delta: expected a finite number >= 0, found "
          + reduceLrMinDelta);
    }
    if (!(minLr >= 0) || !Double.isFinite(minLr)) {
      throw new IllegalArgumentException("--min-lr: expected a finite number >= 0, found " + minLr);
    }
  }

  /** The seed's callbacks with both patiences set to {@code patience} (the seed: 5). */
  public static CallbackSettings seed(int patience) {
    return new CallbackSettings(patience, patience, 0.5, 1e-4, 1e-6);
  }

  /** The settings as recorded in run.json and checkpoints. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("early_stopping_patience", earlyStoppingPatience);
    m.put("reduce_lr_patience", reduceLrPatience);
    m.put("reduce_lr_factor", reduceLrFactor);
    m.put("reduce_lr_min_delta", reduceLrMinDelta);
    m.put("min_lr", minLr);
    return m;
  }

  /** The callbacks as Keras would be called, for run.json. */
  public List<String> describe() {
    return List.of(
        String.format(Locale.ROOT, "EarlyStopping(monitor=loss, patience=%d)", earlyStoppingPatience),
        String.format(Locale.ROOT, "ReduceLROnPlateau(monitor=loss, factor=%s, patience=%d, min_lr=%s, min_delta=%s)",
            reduceLrFactor, reduceLrPatience, minLr, reduceLrMinDelta),
        "best weights (lowest loss) restored at the end");
  }
}
