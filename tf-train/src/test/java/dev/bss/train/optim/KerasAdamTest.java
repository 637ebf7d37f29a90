package dev.bss.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.Weight;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/** Keras Adam in graph ops against the closed-form update computed in double precision. */
class KerasAdamTest {

  private static final float[] INITIAL = {0.5f, -1.25f, 2f, 0.01f};
  private static final float[] TARGET = {1f, 0.5f, -3f, 0f};

  @Test
  void severalStepsMatchClosedFormWithChangingLearningRate() {
    double[] lrs = {1e-2, 1e-2, 5e-3, 5e-3, 1e-1, 1e-3, 2e-2};
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Variable<TFloat32> w = tf.withName("w").variable(Shape.of(INITIAL.length), TFloat32.class);
      Placeholder<TFloat32> lr = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      // loss = sum((w - target)^3 ... ) keeps gradients varying in sign and size: use 0.25 * (w - t)^4 + (w - t)^2.
      Operand<TFloat32> d = tf.math.sub(w, tf.constant(TARGET));
      Operand<TFloat32> loss = tf.reduceSum(tf.math.add(tf.math.mul(tf.constant(0.25f),
          tf.math.square(tf.math.square(d))), tf.math.square(d)), tf.constant(0));
      var grads = tf.gradients(loss, List.of(w));
      @SuppressWarnings("unchecked")
      Operand<TFloat32> grad = (Operand<TFloat32>) (Operand<?>) grads.dy(0);
      KerasAdam adam = KerasAdam.build(tf, List.of("w"), List.of(w), List.of(new long[] {INITIAL.length}),
          List.of(grad), lr, List.of(tf.identity(loss)));
      var init = tf.assign(w, tf.constant(INITIAL));
      try (Session s = new Session(g)) {
        s.runner().addTarget(init).addTarget(adam.reset()).run().close();
        double[] wj = toDouble(INITIAL);
        double[] m = new double[wj.length];
        double[] v = new double[wj.length];
        for (int step = 0; step < lrs.length; step++) {
          // Start each step from the graph's own weights so float32 round-off does not accumulate in w.
          float[] before = read(s, w, wj.length);
          for (int i = 0; i < wj.length; i++) {
            wj[i] = before[i];
          }
          try (TFloat32 lrT = TFloat32.scalarOf((float) lrs[step])) {
            s.runner().feed(lr, lrT).addTarget(adam.step()).run().close();
          }
          int t = step + 1;
          double alpha = lrs[step] * Math.sqrt(1 - Math.pow(0.999, t)) / (1 - Math.pow(0.9, t));
          for (int i = 0; i < wj.length; i++) {
            double di = wj[i] - TARGET[i];
            double gi = di * di * di + 2 * di;
            m[i] += (gi - m[i]) * 0.1;
            v[i] += (gi * gi - v[i]) * 0.001;
            wj[i] -= alpha * m[i] / (Math.sqrt(v[i]) + 1e-7);
          }
          float[] actual = read(s, w, wj.length);
          for (int i = 0; i < wj.length; i++) {
            assertEquals(wj[i], actual[i], 1e-6, "step " + t + " w[" + i + "]");
          }
          assertEquals(t, adam.iterations(s));
        }
        // The state round-trips through read/assign (what checkpoints use).
        Map<String, Weight> state = adam.read(s);
        assertEquals(lrs.length, state.get(KerasAdam.ITERATIONS).data()[0]);
        for (int i = 0; i < wj.length; i++) {
          // Slots are float32: compare relative to their size (v reaches ~1e2 here).
          assertEquals(m[i], state.get("m/w").data()[i], 1e-6 * Math.max(1, Math.abs(m[i])));
          assertEquals(v[i], state.get("v/w").data()[i], 1e-6 * Math.max(1, Math.abs(v[i])));
        }
        s.runner().addTarget(adam.reset()).run().close();
        assertEquals(0, adam.iterations(s));
        adam.assign(s, state);
        assertEquals(state.get("m/w"), adam.read(s).get("m/w"));
        assertEquals(lrs.length, adam.iterations(s));
        var bad = new java.util.LinkedHashMap<>(state);
        bad.put("v/w", new Weight(new long[] {2}, new float[2]));
        bad.remove("m/w");
        var e = assertThrows(IllegalArgumentException.class, () -> adam.assign(s, bad));
        assertTrue(e.getMessage().contains("m/w: missing"), e.getMessage());
        assertTrue(e.getMessage().contains("v/w: expected [4], found [2]"), e.getMessage());
      }
    }
  }

  private static float[] read(Session s, Operand<TFloat32> w, int n) {
    float[] out = new float[n];
    try (var r = s.runner().fetch(w).run()) {
      ((TFloat32) r.get(0)).copyTo(DataBuffers.of(out, false, false));
    }
    return out;
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }
}
