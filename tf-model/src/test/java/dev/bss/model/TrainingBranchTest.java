package dev.bss.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.layers.BatchNormalization;
import dev.bss.model.layers.Dropout;
import dev.bss.model.layers.Flow;
import dev.bss.model.layers.GraphContext;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/** The training branch: BatchNormalization's batch statistics and moving-average rule, and dropout's masks. */
class TrainingBranchTest {

  @Test
  void batchNormUsesBatchStatisticsAndUpdatesMovingOnesByTheKerasRule() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      GraphContext context = new GraphContext(tf);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 1, 2, 2)));
      Flow out = new BatchNormalization(context).apply(context.input("x", x));
      VariableRegistry r = new VariableRegistry(context.variables(), context.initializers());
      WeightSet w = new WeightSet()
          .put("batch_normalization/gamma", new Weight(new long[] {2}, new float[] {2f, 1f}))
          .put("batch_normalization/beta", new Weight(new long[] {2}, new float[] {0.5f, 0f}))
          .put("batch_normalization/moving_mean", new Weight(new long[] {2}, new float[] {1f, 0f}))
          .put("batch_normalization/moving_variance", new Weight(new long[] {2}, new float[] {2f, 1f}));
      r.assign(s, w);
      // Channel 0 holds 1, 2, 3, 6 (mean 3, biased variance 3.5); channel 1 holds 0, 0, 0, 4 (mean 1, variance 3).
      float[] input = {1, 0, 2, 0, 3, 0, 6, 4};
      float[] training;
      float[] inference;
      try (TFloat32 t = TFloat32.tensorOf(Shape.of(2, 1, 2, 2), DataBuffers.of(input, true, false))) {
        inference = fetch(s, t, x, out.inference());
        Session.Runner runner = s.runner().feed(x, t).fetch(out.training());
        context.batchNormUpdates().forEach(runner::addTarget);
        try (Result res = runner.run()) {
          training = values((TFloat32) res.get(0));
        }
      }
      float[] expectedTraining = new float[8];
      float[] expectedInference = new float[8];
      for (int i = 0; i < 8; i++) {
        int c = i % 2;
        expectedTraining[i] = c == 0 ? (float) ((input[i] - 3) / Math.sqrt(3.5 + 1e-3) * 2 + 0.5)
            : (float) ((input[i] - 1) / Math.sqrt(3 + 1e-3));
        expectedInference[i] = c == 0 ? (float) ((input[i] - 1) / Math.sqrt(2 + 1e-3) * 2 + 0.5)
            : (float) (input[i] / Math.sqrt(1 + 1e-3));
      }
      assertTrue(Comparison.of(training, expectedTraining, 1e-6, 0).passed(), Arrays.toString(training));
      assertTrue(Comparison.of(inference, expectedInference, 1e-6, 0).passed(), Arrays.toString(inference));
      WeightSet after = r.read(s);
      // moving = moving * 0.99 + batch statistic * 0.01, with the biased variance.
      assertArrayEquals(new float[] {1 * 0.99f + 3 * 0.01f, 0 * 0.99f + 1 * 0.01f},
          after.get("batch_normalization/moving_mean").data(), 1e-6f);
      assertArrayEquals(new float[] {2 * 0.99f + 3.5f * 0.01f, 1 * 0.99f + 3 * 0.01f},
          after.get("batch_normalization/moving_variance").data(), 1e-6f);
      assertArrayEquals(new float[] {2f, 1f}, after.get("batch_normalization/gamma").data());
    }
  }

  @Test
  void dropoutMasksOnlyInTrainingAndFollowTheSeed() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      GraphContext context = new GraphContext(tf);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4000)));
      Flow input = context.input("x", x);
      Flow first = new Dropout(context, 0.25).apply(input);
      Flow second = new Dropout(context, 0.25).apply(input);
      float[] ones = new float[4000];
      Arrays.fill(ones, 1f);
      try (TFloat32 t = TFloat32.tensorOf(Shape.of(1, 4000), DataBuffers.of(ones, true, false))) {
        List<float[]> a = run(s, context, x, t, new long[] {7, 1}, first.training(), second.training(),
            first.inference());
        List<float[]> again = run(s, context, x, t, new long[] {7, 1}, first.training(), second.training(),
            first.inference());
        List<float[]> other = run(s, context, x, t, new long[] {7, 2}, first.training(), second.training(),
            first.inference());
        long zeros = 0;
        for (float v : a.get(0)) {
          assertTrue(v == 0f || Math.abs(v - 1f / 0.75f) < 1e-6, "kept units are scaled by 1 / (1 - rate): " + v);
          zeros += v == 0f ? 1 : 0;
        }
        assertTrue(zeros > 850 && zeros < 1150, "about a quarter dropped, found " + zeros + " of 4000");
        assertArrayEquals(a.get(0), again.get(0), "same seed, same mask");
        assertFalse(Arrays.equals(a.get(0), other.get(0)), "another seed, another mask");
        assertFalse(Arrays.equals(a.get(0), a.get(1)), "each Dropout layer draws its own mask");
        assertArrayEquals(ones, a.get(2), "inference is the identity");
      }
    }
  }

  @Test
  void networkTrainingOutputDependsOnTheDropoutSeedAndInferenceDoesNot() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      SeparationModel m = SeparationModel.build(tf, ModelConfig.tiny());
      m.variables().assign(s, m.variables().initialValues(3));
      float[] mixtures = new float[2 * 32 * 32];
      for (int i = 0; i < mixtures.length; i++) {
        mixtures[i] = ((37 * i) % 101) / 100f;
      }
      try (TFloat32 t = TFloat32.tensorOf(Shape.of(2, 32, 32, 1), DataBuffers.of(mixtures, true, false))) {
        List<float[]> a = runModel(s, m, t, new long[] {1, 1});
        List<float[]> b = runModel(s, m, t, new long[] {1, 2});
        assertFalse(Arrays.equals(a.get(0), b.get(0)), "training decoded1 changes with the dropout seed");
        assertFalse(Arrays.equals(a.get(1), b.get(1)), "training decoded2 changes with the dropout seed");
        assertArrayEquals(a.get(2), b.get(2), "inference decoded1 ignores the dropout seed");
        assertArrayEquals(a.get(3), b.get(3), "inference decoded2 ignores the dropout seed");
        assertArrayEquals(a.get(0), runModel(s, m, t, new long[] {1, 1}).get(0), "same seed, same training output");
      }
    }
  }

  private static List<float[]> runModel(Session s, SeparationModel m, TFloat32 input, long[] seed) {
    try (TInt64 seedTensor = TInt64.vectorOf(seed)) {
      Session.Runner runner = s.runner().feed(m.input(), input).feed(m.dropoutSeed(), seedTensor)
          .fetch(m.decoded1(true)).fetch(m.decoded2(true)).fetch(m.decoded1(false)).fetch(m.decoded2(false));
      try (Result res = runner.run()) {
        return List.of(values((TFloat32) res.get(0)), values((TFloat32) res.get(1)), values((TFloat32) res.get(2)),
            values((TFloat32) res.get(3)));
      }
    }
  }

  @SafeVarargs
  private static List<float[]> run(Session s, GraphContext context, Placeholder<TFloat32> x, TFloat32 input,
      long[] seed, Operand<TFloat32>... fetches) {
    try (TInt64 seedTensor = TInt64.vectorOf(seed)) {
      Session.Runner runner = s.runner().feed(x, input).feed(context.dropoutSeedPlaceholder(), seedTensor);
      for (Operand<TFloat32> f : fetches) {
        runner.fetch(f);
      }
      try (Result res = runner.run()) {
        List<float[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < fetches.length; i++) {
          out.add(values((TFloat32) res.get(i)));
        }
        return out;
      }
    }
  }

  private static float[] fetch(Session s, TFloat32 input, Placeholder<TFloat32> x, Operand<TFloat32> y) {
    try (Result res = s.runner().feed(x, input).fetch(y).run()) {
      return values((TFloat32) res.get(0));
    }
  }

  static float[] values(TFloat32 t) {
    float[] v = new float[Math.toIntExact(t.shape().size())];
    t.asRawTensor().data().asFloats().read(v);
    return v;
  }
}
