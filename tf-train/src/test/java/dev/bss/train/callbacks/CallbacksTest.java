package dev.bss.train.callbacks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.train.io.Checkpoint;
import dev.bss.train.io.TrainingState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The callbacks on scripted loss sequences, the way Keras's own callback tests drive them. */
class CallbacksTest {

  /** Runs EarlyStopping over a sequence; returns the 0-based epoch it stopped at, or -1. */
  private static int stopEpoch(EarlyStopping es, double... losses) {
    for (int epoch = 0; epoch < losses.length; epoch++) {
      if (es.onEpochEnd(epoch, losses[epoch])) {
        return epoch;
      }
    }
    return -1;
  }

  @Test
  void earlyStoppingWaitsPatienceEpochsWithoutImprovement() {
    // Keras test_early_stopping_patience-style: best at epoch 1, then `patience` epochs without improvement.
    assertEquals(3, stopEpoch(new EarlyStopping(2, 0), 0.5, 0.4, 0.45, 0.41, 0.3));
    // An improvement resets the count.
    assertEquals(5, stopEpoch(new EarlyStopping(2, 0), 0.5, 0.4, 0.45, 0.39, 0.40, 0.40, 0.1));
    // An equal value is not an improvement (strict <).
    assertEquals(2, stopEpoch(new EarlyStopping(2, 0), 0.5, 0.5, 0.5));
    // Monotone improvement never stops.
    assertEquals(-1, stopEpoch(new EarlyStopping(1, 0), 5, 4, 3, 2, 1));
  }

  @Test
  void earlyStoppingPatienceZeroStillSkipsEpochZero() {
    // Keras: `wait >= patience and epoch > 0`; epoch 0 always improves on +inf anyway.
    EarlyStopping es = new EarlyStopping(0, 0);
    assertFalse(es.onEpochEnd(0, 1.0));
    assertTrue(es.onEpochEnd(1, 1.0));
    assertEquals(1, es.stoppedEpoch());
  }

  @Test
  void earlyStoppingMinDeltaCountsSmallGainsAsNoImprovement() {
    // Keras flips min_delta's sign for mode 'min': improvement iff current + |min_delta| < best.
    EarlyStopping es = new EarlyStopping(2, 0.1);
    assertEquals(2, stopEpoch(es, 1.0, 0.95, 0.91, 0.5));
    assertEquals(1.0, es.best());
    assertEquals(2, stopEpoch(new EarlyStopping(2, -0.1), 1.0, 0.95, 0.91, 0.5));
    assertEquals(-1, stopEpoch(new EarlyStopping(2, 0.1), 1.0, 0.85, 0.7, 0.55));
  }

  @Test
  void earlyStoppingNanNeverImproves() {
    EarlyStopping es = new EarlyStopping(1, 0);
    assertFalse(es.onEpochEnd(0, 1.0));
    assertTrue(es.onEpochEnd(1, Double.NaN));
    assertEquals(1.0, es.best());
  }

  @Test
  void reduceLrHalvesAfterPatienceEpochsBelowMinDelta() {
    ReduceLrOnPlateau r = new ReduceLrOnPlateau(0.5, 2, 1e-6, 1e-4, 0);
    float lr = 1e-3f;
    List<Float> lrs = new ArrayList<>();
    // 0.5 best; 0.49995 is within min_delta: no improvement.
    for (double loss : new double[] {0.5, 0.49995, 0.49991, 0.4, 0.39999, 0.39998, 0.39997, 0.39996}) {
      lrs.add(lr);
      lr = r.onEpochEnd(loss, lr);
    }
    lrs.add(lr);
    // Halved at the end of the 3rd epoch (wait 2), best 0.4 at the 4th, halved at the 6th, wait restarts from 0
    // and reaches 2 again at the 8th.
    assertEquals(List.of(1e-3f, 1e-3f, 1e-3f, 5e-4f, 5e-4f, 5e-4f, 2.5e-4f, 2.5e-4f, 1.25e-4f), lrs);
    assertEquals(0.4, r.best());
  }

  @Test
  void reduceLrClampsAtMinLrAndStopsThere() {
    ReduceLrOnPlateau r = new ReduceLrOnPlateau(0.1, 1, 1e-4, 0, 0);
    float lr = 1e-3f;
    lr = r.onEpochEnd(1.0, lr);
    assertEquals(1e-3f, lr);
    lr = r.onEpochEnd(1.0, lr);
    assertEquals((float) Math.max(1e-3f * 0.1, 1e-4), lr);
    lr = r.onEpochEnd(1.0, lr);
    assertEquals(1e-4f, lr);
    // lr == float32(min_lr): never lowered again.
    assertEquals(1e-4f, r.onEpochEnd(1.0, lr));
    assertEquals(1e-4f, r.onEpochEnd(1.0, lr));
  }

  @Test
  void reduceLrCooldownSuspendsCounting() {
    // Keras: the epoch that decrements the cooldown counter to 0 already counts (wait reset, then wait += 1).
    ReduceLrOnPlateau r = new ReduceLrOnPlateau(0.5, 1, 0, 0, 2);
    float lr = 1f;
    List<Float> lrs = new ArrayList<>();
    for (int epoch = 0; epoch < 8; epoch++) {
      lr = r.onEpochEnd(1.0, lr);
      lrs.add(lr);
    }
    assertEquals(List.of(1f, 0.5f, 0.5f, 0.25f, 0.25f, 0.125f, 0.125f, 0.0625f), lrs);
  }

  @Test
  void seedRuleReproducesTheRecordedHalvingEpochsAndStop() {
    // A loss curve shaped like the recorded run: steady gains > min_delta until epoch 25, then gains of 1e-6
    // (improvements for early stopping, not for the LR rule) except two real gains at epochs 31 and 42, and
    // no gain after epoch 62. The seed's callbacks must halve at 30, 36, 41, 47, 52, 57, 62, 67 and stop at 67.
    List<Double> losses = new ArrayList<>();
    for (int e = 1; e <= 67; e++) {
      double loss;
      if (e <= 25) {
        loss = 0.002 + (26 - e) * 2e-4;
      } else if (e <= 62) {
        loss = losses.get(e - 2) - ((e == 31 || e == 42) ? 2e-4 : 1e-6);
      } else {
        loss = losses.get(61) + 1e-5;
      }
      losses.add(loss);
    }
    EarlyStopping es = new EarlyStopping(5, 0);
    ReduceLrOnPlateau rlr = ReduceLrOnPlateau.seed();
    BestWeightsKeeper keeper = new BestWeightsKeeper();
    float lr = 1e-3f;
    List<Integer> halvedAt = new ArrayList<>();
    int stoppedAt = -1;
    for (int epoch = 0; epoch < 80; epoch++) {
      double loss = losses.get(Math.min(epoch, losses.size() - 1));
      boolean stop = es.onEpochEnd(epoch, loss);
      float next = rlr.onEpochEnd(loss, lr);
      if (next != lr) {
        halvedAt.add(epoch + 1);
      }
      lr = next;
      keeper.onEpochEnd(epoch, loss);
      if (stop) {
        stoppedAt = epoch + 1;
        break;
      }
    }
    assertEquals(List.of(30, 36, 41, 47, 52, 57, 62, 67), halvedAt);
    assertEquals(67, stoppedAt);
    assertEquals(61, keeper.bestEpoch());
    assertEquals((float) (1e-3 / 256), lr, 1e-12);
  }

  @Test
  void bestWeightsKeeperKeepsStrictMinimum() {
    BestWeightsKeeper k = new BestWeightsKeeper();
    assertTrue(k.onEpochEnd(0, 0.5));
    assertFalse(k.onEpochEnd(1, 0.5));
    assertTrue(k.onEpochEnd(2, 0.3));
    assertFalse(k.onEpochEnd(3, Double.NaN));
    assertEquals(2, k.bestEpoch());
  }

  /** The three callbacks' states through state.json's text and back, as checkpoints store them. */
  private static TrainingState.Callbacks json(EarlyStopping es, ReduceLrOnPlateau rlr, BestWeightsKeeper keeper) {
    TrainingState state = new TrainingState(1, 10, 1e-3f, false, 1, 2, Map.of(),
        new TrainingState.Callbacks(es.state(), rlr.state(), keeper.state()), Map.of(), List.of(Map.of("loss", 0.1)));
    return Checkpoint.parseState(Checkpoint.stateJson(state), Path.of("state.json")).callbacks();
  }

  @Test
  void statesRoundTripThroughJsonExactly() {
    EarlyStopping es = new EarlyStopping(3, 0);
    ReduceLrOnPlateau rlr = new ReduceLrOnPlateau(0.5, 2, 1e-6, 1e-4, 1);
    BestWeightsKeeper keeper = new BestWeightsKeeper();
    double[] head = {0.1 / 3, 0.04, 0.05};
    float lr = 1e-3f;
    for (int e = 0; e < head.length; e++) {
      es.onEpochEnd(e, head[e]);
      lr = rlr.onEpochEnd(head[e], lr);
      keeper.onEpochEnd(e, head[e]);
    }
    EarlyStopping es2 = new EarlyStopping(3, 0);
    ReduceLrOnPlateau rlr2 = new ReduceLrOnPlateau(0.5, 2, 1e-6, 1e-4, 1);
    BestWeightsKeeper keeper2 = new BestWeightsKeeper();
    TrainingState.Callbacks saved = json(es, rlr, keeper);
    es2.restore(saved.earlyStopping());
    rlr2.restore(saved.reduceLrOnPlateau());
    keeper2.restore(saved.bestWeights());
    assertEquals(es.state(), es2.state());
    assertEquals(rlr.state(), rlr2.state());
    assertEquals(keeper.state(), keeper2.state());
    // Fresh callbacks hold +inf, which JSON numbers cannot: it round-trips as a string.
    EarlyStopping fresh = new EarlyStopping(1, 0);
    fresh.restore(json(new EarlyStopping(1, 0), rlr, keeper).earlyStopping());
    assertEquals(Double.POSITIVE_INFINITY, fresh.best());
    // Same continuation.
    double[] tail = {0.05, 0.05, 0.05, 0.05};
    for (int e = 0; e < tail.length; e++) {
      assertEquals(es.onEpochEnd(3 + e, tail[e]), es2.onEpochEnd(3 + e, tail[e]));
      assertEquals(rlr.onEpochEnd(tail[e], lr), rlr2.onEpochEnd(tail[e], lr));
    }
    // A fresh EarlyStopping's wait is 0, and its state comes first in state.json.
    String text = Checkpoint.stateJson(new TrainingState(1, 10, 1e-3f, false, 1, 2, Map.of(),
        new TrainingState.Callbacks(new EarlyStopping(1, 0).state(), rlr.state(), keeper.state()), Map.of(),
        List.of(Map.of("loss", 0.1)))).replaceFirst("\"wait\": 0", "\"wait\": \"x\"");
    var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.parseState(text, Path.of("state.json")));
    assertEquals("state.json: 'callbacks.early_stopping.wait' expected an integer, found \"x\"", e.getMessage());
  }
}
