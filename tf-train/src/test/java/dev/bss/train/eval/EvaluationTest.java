package dev.bss.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.interop.SeparationResult;
import dev.bss.train.data.Batch;
import dev.bss.train.loop.PairData;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The seed's evaluation protocol on predictors with known errors. */
class EvaluationTest {

  /** Random pairs: targets uniform in [0, 1], mixture their mean; the same seed gives the same draws. */
  private static PairData.BatchStream pairs(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    return batch -> {
      for (int i = 0; i < batch.size() * 1024; i++) {
        float mnist = random.nextFloat();
        float fashion = random.nextFloat();
        batch.mnist().setFloat(mnist, i);
        batch.fashion().setFloat(fashion, i);
        batch.mixture().setFloat((mnist + fashion) / 2, i);
      }
    };
  }

  @Test
  void identityPredictorEqualsTheBaselineAndOffsetsAddTheirSquare() {
    Evaluation.Report identity = Evaluation.run((m, n) -> new SeparationResult(m, m), pairs(1), 3, 50, 1);
    assertEquals(identity.identity().combinedMean(), identity.model().combinedMean(), 0);
    assertEquals(1.0, identity.improvement(), 0);
    // (u - v)^2 / 4 with u, v ~ U(0, 1): E = 1/24.
    assertEquals(1 / 24.0, identity.identity().mnistMean(), 2e-3);

    // A predictor of zeros against U(0, 1) targets: E[u^2] = 1/3 for each head.
    Evaluation.Report zeros = Evaluation.run((m, n) -> new SeparationResult(new float[n * 1024], new float[n * 1024]),
        pairs(2), 2, 10, 2);
    assertEquals(1 / 3.0, zeros.model().mnistMean(), 1e-2);
    assertEquals(1 / 3.0, zeros.model().combinedMean(), 1e-2);
    assertEquals(3, identity.model().draws().size());
    double[] c = identity.model().draws().stream().mapToDouble(Evaluation.Draw::combined).toArray();
    double mean = (c[0] + c[1] + c[2]) / 3;
    double std = Math.sqrt(((c[0] - mean) * (c[0] - mean) + (c[1] - mean) * (c[1] - mean)
        + (c[2] - mean) * (c[2] - mean)) / 3);
    assertEquals(mean, identity.model().combinedMean(), 1e-15);
    assertEquals(std, identity.model().combinedStd(), 1e-15);
    Map<String, Object> json = identity.toMap();
    assertTrue(json.containsKey("identity_baseline") && json.containsKey("improvement_over_identity"));
    assertTrue(identity.toText().contains("identity baseline"));
  }

  @Test
  void perfectPredictorScoresZeroAndBadCountsAreRefused() {
    // The predictor sees the mixture only; recover the targets from the stream's own draw by re-drawing it.
    PairData.BatchStream truth = pairs(5);
    Evaluation.Report perfect = Evaluation.run((m, n) -> {
      try (Batch b = Batch.allocate(n)) {
        truth.fill(b);
        return new SeparationResult(b.mnistValues(), b.fashionValues());
      }
    }, pairs(5), 2, 20, 5);
    assertEquals(0.0, perfect.model().combinedMean(), 0);
    var e = assertThrows(IllegalArgumentException.class, () -> Evaluation.run((m, n) -> null, pairs(1), 0, 5, 1));
    assertTrue(e.getMessage().contains("--draws and --samples must be positive"), e.getMessage());
  }
}
