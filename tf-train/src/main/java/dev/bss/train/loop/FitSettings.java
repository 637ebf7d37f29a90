package dev.bss.train.loop;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a run starts and what it trains on, beyond {@link TrainOptions}'s counts: the callbacks' knobs, the initial
 * weights ({@code --init}), the pairs file ({@code --pairs}) and its order, the dropout override. Recorded in run.json
 * and in every checkpoint's state (under {@code settings}), so a resume can check that nothing changed.
 *
 * @param callbacks EarlyStopping / ReduceLROnPlateau knobs
 * @param init the weights the run starts from, or null for the seeded initialisers
 * @param pairs the training set file, or null for the mixture generator
 * @param dropout the --dropout override, or null (the config's rate)
 */
public record FitSettings(CallbackSettings callbacks, InitWeights init, PairsDataset pairs, Double dropout) {

  /** The seed's callbacks with {@code patience}, random initial weights, generated mixtures. */
  public static FitSettings defaults(int patience) {
    return new FitSettings(CallbackSettings.seed(patience), null, null, null);
  }

  /** What the settings are, for run.json and checkpoint state (no weights or data, only their identity). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("callbacks", callbacks.toMap());
    m.put("init", init == null ? null : init.toMap());
    m.put("pairs", pairs == null ? null : pairs.toMap());
    m.put("dropout_override", dropout);
    return m;
  }
}
