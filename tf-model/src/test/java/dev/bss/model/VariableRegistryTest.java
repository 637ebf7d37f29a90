package dev.bss.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.layers.Initializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;

/** Assigning, reading and initializing the variables of the tiny network. */
class VariableRegistryTest {

  private static Graph graph;
  private static Session session;
  private static SeparationModel model;

  @BeforeAll
  static void build() {
    graph = new Graph();
    model = SeparationModel.build(Ops.create(graph), ModelConfig.tiny());
    session = new Session(graph);
  }

  @AfterAll
  static void close() {
    session.close();
    graph.close();
  }

  @Test
  void assignThenReadRoundTrips() {
    WeightSet init = model.variables().initialValues(11);
    model.variables().assign(session, init);
    WeightSet back = model.variables().read(session);
    assertEquals(init.paths().stream().toList(), back.paths().stream().toList());
    for (String p : init.paths()) {
      assertEquals(init.get(p), back.get(p), p);
    }
  }

  @Test
  void assignReportsEveryProblemAtOnceAndAssignsNothing() {
    VariableRegistry r = model.variables();
    WeightSet good = r.initialValues(5);
    r.assign(session, good);
    WeightSet bad = new WeightSet();
    good.asMap().forEach(bad::put);
    bad.put("conv2d_3/kernel", new Weight(new long[] {3, 3, 16, 8}, new float[3 * 3 * 16 * 8]));
    float[] nan = good.get("dense/bias").data().clone();
    nan[2] = Float.NaN;
    bad.put("dense/bias", new Weight(new long[] {24}, nan));
    bad.put("conv2d_99/kernel", new Weight(new long[] {1}, new float[1]));
    WeightSet missing = new WeightSet();
    bad.asMap().forEach((k, v) -> {
      if (!k.equals("batch_normalization_3/moving_variance")) {
        missing.put(k, v);
      }
    });
    WeightSet before = r.read(session);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.assign(session, missing));
    String m = e.getMessage();
    assertTrue(m.startsWith("weights: weights do not fit the model's variables; 2 wrong: "), m);
    assertTrue(m.contains("conv2d_3/kernel: expected [3, 3, 16, 16], found [3, 3, 16, 8]"), m);
    assertTrue(m.contains("dense/bias: non-finite value NaN at flat index 2"), m);
    assertTrue(m.contains("; 1 unexpected: conv2d_99/kernel"), m);
    assertTrue(m.contains("; 1 missing: batch_normalization_3/moving_variance (expected [16])"), m);
    WeightSet after = r.read(session);
    assertEquals(before.get("dense/bias"), after.get("dense/bias"), "nothing assigned");
  }

  @Test
  void initialValuesFollowKerasInitializersDeterministically() {
    VariableRegistry r = model.variables();
    WeightSet a = r.initialValues(1);
    assertEquals(a.get("conv2d_5/kernel"), r.initialValues(1).get("conv2d_5/kernel"));
    assertNotEquals(a.get("conv2d_5/kernel"), r.initialValues(2).get("conv2d_5/kernel"));
    // glorot_uniform on [3, 3, 32, 32]: limit sqrt(6 / (288 + 288)).
    double limit = Math.sqrt(6.0 / (288 + 288));
    for (float v : a.get("conv2d_5/kernel").data()) {
      assertTrue(Math.abs(v) <= limit, "glorot_uniform within its limit: " + v);
    }
    // he_normal on CBAM's dense_7 [32, 8]: truncated at 2 stddev, stddev = sqrt(2 / 32) / 0.8796...
    double heLimit = 2 * Math.sqrt(2.0 / 32) / 0.87962566103423978;
    for (float v : a.get("dense_7/kernel").data()) {
      assertTrue(Math.abs(v) <= heLimit + 1e-6, "he_normal truncated: " + v);
    }
    assertArrayEquals(new float[16], a.get("batch_normalization_3/moving_mean").data());
    for (float v : a.get("batch_normalization_3/moving_variance").data()) {
      assertEquals(1f, v);
    }
    for (float v : a.get("layer_normalization/gamma").data()) {
      assertEquals(1f, v);
    }
    float[] pos = a.get(WeightSet.POSITION_EMBEDDING).data();
    double mean = 0;
    double sq = 0;
    for (float v : pos) {
      mean += v / pos.length;
      sq += (double) v * v / pos.length;
    }
    assertEquals(0, mean, 0.2);
    assertEquals(1, Math.sqrt(sq - mean * mean), 0.2);
  }

  @Test
  void fansFollowKerasRules() {
    assertArrayEquals(new long[] {768, 36_864}, Initializers.fans(new long[] {192, 4, 192}));
    assertArrayEquals(new long[] {9 * 64, 9 * 128}, Initializers.fans(new long[] {3, 3, 64, 128}));
    assertArrayEquals(new long[] {128, 192}, Initializers.fans(new long[] {128, 192}));
  }
}
