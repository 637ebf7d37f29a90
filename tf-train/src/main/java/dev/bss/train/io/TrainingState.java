package dev.bss.train.io;

import dev.bss.train.callbacks.BestWeightsKeeper;
import dev.bss.train.callbacks.EarlyStopping;
import dev.bss.train.callbacks.ReduceLrOnPlateau;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a training run stands after {@code epoch} epochs: what an epoch checkpoint's state.json holds and what a
 * resumed run continues from. {@link Checkpoint#stateJson} and {@link Checkpoint#parseState} are its one JSON codec.
 *
 * @param epoch epochs done
 * @param globalStep optimizer steps done
 * @param learningRate the learning rate of the next epoch (Keras's float32 variable, after ReduceLROnPlateau)
 * @param stopped whether EarlyStopping ended the run
 * @param runSeed the run's seed
 * @param nextDataSeed the data seed of the next epoch (recorded for readers; the loop derives it from the run seed)
 * @param settings the run's resume settings, what a resume must keep (empty in checkpoints that predate them)
 * @param callbacks the callbacks' states
 * @param fit the run's fit settings as recorded: callbacks' knobs, init, pairs, dropout (JSON values; null entries
 *     are left out, as the file leaves them out)
 * @param history one row of Keras logs per epoch done ({@code loss}, {@code decoded1_loss}, ..., {@code learning_rate})
 */
public record TrainingState(int epoch, long globalStep, float learningRate, boolean stopped, long runSeed,
    long nextDataSeed, Map<String, String> settings, Callbacks callbacks, Map<String, Object> fit,
    List<Map<String, Double>> history) {

  /** The callbacks' states, in the order Keras calls them: early stopping, LR reduction, best weights. */
  public record Callbacks(EarlyStopping.State earlyStopping, ReduceLrOnPlateau.State reduceLrOnPlateau,
      BestWeightsKeeper.State bestWeights) {}

  public TrainingState {
    settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    fit = withoutNulls(fit);
    List<Map<String, Double>> rows = new ArrayList<>();
    for (Map<String, Double> row : history) {
      rows.add(Collections.unmodifiableMap(new LinkedHashMap<>(row)));
    }
    history = Collections.unmodifiableList(rows);
  }

  /** Whether the best-weights checkpoint exists (some epoch has been the best). */
  public boolean hasBest() {
    return callbacks.bestWeights().bestEpoch() >= 0;
  }

  /** A copy without null entries, as state.json records it (JSON leaves them out), so the codec round-trips. */
  private static Map<String, Object> withoutNulls(Map<String, Object> map) {
    Map<String, Object> copy = new LinkedHashMap<>();
    map.forEach((k, v) -> {
      if (v instanceof Map<?, ?> nested) {
        Map<String, Object> inner = new LinkedHashMap<>();
        nested.forEach((ik, iv) -> inner.put(String.valueOf(ik), iv));
        copy.put(k, withoutNulls(inner));
      } else if (v != null) {
        copy.put(k, v);
      }
    });
    return Collections.unmodifiableMap(copy);
  }
}
