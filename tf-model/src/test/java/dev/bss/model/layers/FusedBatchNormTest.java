package dev.bss.model.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.Comparison;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The fused training branch of BatchNormalization against Keras's formulation written out: output, batch mean,
 * biased variance (the moving statistics' inputs) and the gradients, at the shapes of the tiny config's layers.
 */
class FusedBatchNormTest {

  @Test
  void fusedKernelEqualsKerasMomentsAndNormalization() {
    // [batch, h, w, c] of the tiny config's decoder BNs (16x16x16, 8x8x32) and an odd one.
    long[][] shapes = {{8, 16, 16, 16}, {8, 8, 8, 32}, {3, 5, 7, 6}};
    SplittableRandom random = new SplittableRandom(3);
    for (long[] shape : shapes) {
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        int c = (int) shape[3];
        Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, shape[1], shape[2],
            c)));
        Operand<TFloat32> gamma = tf.constant(values(random, c, 0.5, 1.5));
        Operand<TFloat32> beta = tf.constant(values(random, c, -0.5, 0.5));
        int n = (int) (shape[0] * shape[1] * shape[2] * c);
        // A weighting of the output, so the gradients are not the trivial ones of a plain sum.
        Operand<TFloat32> weights = tf.constant(Shape.of(shape), DataBuffers.of(values(random, n, -1, 1)));
        BatchNormalization.Statistics fused = BatchNormalization.fusedTraining(tf, x, gamma, beta);
        BatchNormalization.Statistics plain = BatchNormalization.unfusedTraining(tf, x, gamma, beta);
        List<Operand<?>> fetches = new ArrayList<>(List.of(fused.output(), fused.mean(), fused.variance(),
            plain.output(), plain.mean(), plain.variance()));
        for (BatchNormalization.Statistics st : List.of(fused, plain)) {
          Operand<TFloat32> objective = tf.sum(tf.math.mul(st.output(), weights), tf.constant(new int[] {0, 1, 2, 3}));
          for (Output<?> grad : g.addGradients(objective.asOutput(), new Output<?>[] {x.asOutput(),
              gamma.asOutput(), beta.asOutput()})) {
            fetches.add(grad);
          }
        }
        // Post-ReLU-like activations: non-negative, not centred.
        float[] input = values(random, n, 0, 3);
        try (TFloat32 t = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(input, true, false))) {
          Session.Runner runner = s.runner().feed(x, t);
          fetches.forEach(runner::fetch);
          try (Result r = runner.run()) {
            // Statistics: float32 round-off of two summation orders, within 1e-6 absolute plus 1e-6 relative.
            assertClose(values(r, 1), values(r, 4), 1e-6, 1e-6, "batch mean", shape);
            // Keras's E[x^2] - E[x]^2 cancels (E[x^2] ~ 3 here, ulp 2.4e-7, summed over up to 2,048 values), the
            // kernel's centred sum does not: a few 1e-6 apart. That gap is why float32 training keeps Keras's formula.
            assertClose(values(r, 2), values(r, 5), 1e-5, 1e-6, "biased batch variance", shape);
            // Output: both compute x * scale + shift (Keras's x * inv + (beta - mean * inv); oneDNN likewise), which
            // keeps the round-off of |x * scale| (up to ~4 here, ulp 4.8e-7) near zero; so a few 1e-6 absolute, and
            // both are held against float64 to the same bound.
            assertClose(values(r, 0), values(r, 3), 4e-6, 0, "output, fused vs Keras's float32 formula", shape);
            // Gradients: d/dgamma and d/dbeta are sums over batch * h * w (2,048 here) values of order 1, whose
            // summation order differs (a float32 sum of that many carries ~1e-5 of round-off).
            assertClose(values(r, 6), values(r, 9), 1e-5, 1e-5, "d/dx", shape);
            assertClose(values(r, 7), values(r, 10), 1e-4, 1e-5, "d/dgamma", shape);
            assertClose(values(r, 8), values(r, 11), 1e-4, 1e-5, "d/dbeta", shape);
            // The biased variance is E[(x - mean)^2], by hand in double.
            float[] variance = values(r, 2);
            float[] mean = values(r, 1);
            double[] m = new double[c];
            double[] v = new double[c];
            for (int i = 0; i < n; i++) {
              m[i % c] += input[i] / (double) (n / c);
            }
            for (int i = 0; i < n; i++) {
              v[i % c] += (input[i] - m[i % c]) * (input[i] - m[i % c]) / (n / c);
            }
            float[] gammaValues = constant(s, gamma);
            float[] betaValues = constant(s, beta);
            for (int k = 0; k < c; k++) {
              assertEquals(m[k], mean[k], 1e-5, "mean of channel " + k);
              assertEquals(v[k], variance[k], 1e-5, "biased variance of channel " + k);
            }
            float[] exact = new float[n];
            for (int i = 0; i < n; i++) {
              int k = i % c;
              exact[i] = (float) ((input[i] - m[k]) / Math.sqrt(v[k] + BatchNormalization.EPSILON) * gammaValues[k]
                  + betaValues[k]);
            }
            assertClose(values(r, 0), exact, 3e-6, 0, "fused output vs float64", shape);
            assertClose(values(r, 3), exact, 3e-6, 0, "Keras formula's output vs float64", shape);
          }
        }
      }
    }
  }

  private static void assertClose(float[] actual, float[] expected, double atol, double rtol, String what,
      long[] shape) {
    Comparison cmp = Comparison.of(actual, expected, atol, rtol);
    assertTrue(cmp.passed(), what + " at " + java.util.Arrays.toString(shape) + ": " + cmp);
  }

  private static float[] constant(Session s, Operand<TFloat32> c) {
    try (Result r = s.runner().fetch(c).run()) {
      return values(r, 0);
    }
  }

  private static float[] values(Result r, int i) {
    TFloat32 t = (TFloat32) r.get(i);
    float[] v = new float[(int) t.shape().size()];
    t.copyTo(DataBuffers.of(v, false, false));
    return v;
  }

  private static float[] values(SplittableRandom random, int n, double lo, double hi) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (lo + (hi - lo) * random.nextDouble());
    }
    return v;
  }
}
