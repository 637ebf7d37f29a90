package dev.bss.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.Weight;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
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

  /**
   * Several variables of different shapes (a matrix, a scalar, a vector): the flat slots give, bit for bit, the
   * weights and slots of Keras's per-variable update written op by op (the graph the flat one replaced).
   */
  @Test
  void flatSlotsEqualPerVariableUpdateBitForBit() {
    float[] lrs = {1e-2f, 1e-2f, 5e-3f, 1e-1f, 1e-3f};
    Map<String, float[]> flat = train(lrs, true);
    Map<String, float[]> perVariable = train(lrs, false);
    assertEquals(perVariable.keySet(), flat.keySet());
    for (String key : flat.keySet()) {
      assertArrayEquals(perVariable.get(key), flat.get(key), 0f, key);
    }
    assertTrue(Math.abs(flat.get("w0")[0] - 0.3f) > 1e-3, "the weights moved");
  }

  private static final long[][] SHAPES = {{2, 3}, {}, {4}};
  private static final float[][] STARTS = {{0.3f, -0.7f, 1.1f, 0.05f, -2f, 0.9f}, {0.4f}, {1.5f, -0.25f, 0.75f, -1f}};

  /** Trains 3 variables on a quartic loss; returns weights {@code w<i>} and slots {@code m/w<i>}, {@code v/w<i>}. */
  private static Map<String, float[]> train(float[] lrs, boolean flat) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> lr = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat32> t = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      List<Variable<TFloat32>> vars = new ArrayList<>();
      List<Op> inits = new ArrayList<>();
      Operand<TFloat32> loss = tf.constant(0f);
      for (int i = 0; i < SHAPES.length; i++) {
        Variable<TFloat32> w = tf.withName("w" + i).variable(Shape.of(SHAPES[i]), TFloat32.class);
        vars.add(w);
        inits.add(tf.assign(w, tf.reshape(tf.constant(STARTS[i]), tf.constant(SHAPES[i]))));
        Operand<TFloat32> d = tf.math.sub(w, tf.constant(0.2f * (i + 1)));
        Operand<TFloat32> terms = tf.math.add(tf.math.square(tf.math.square(d)), tf.math.mul(d, tf.constant(0.5f)));
        loss = tf.math.add(loss, tf.reduceSum(terms, tf.range(tf.constant(0), tf.rank(d), tf.constant(1))));
      }
      var grads = tf.gradients(loss, vars);
      List<Operand<TFloat32>> gradients = new ArrayList<>();
      for (int i = 0; i < vars.size(); i++) {
        @SuppressWarnings("unchecked")
        Operand<TFloat32> gi = (Operand<TFloat32>) (Operand<?>) grads.dy(i);
        gradients.add(gi);
      }
      Map<String, Variable<TFloat32>> slots = new LinkedHashMap<>();
      KerasAdam adam = null;
      Op step;
      if (flat) {
        adam = KerasAdam.build(tf, List.of("w0", "w1", "w2"), vars, List.of(SHAPES), gradients, lr,
            List.of(tf.identity(loss)));
        step = adam.step();
        inits.add(adam.reset());
      } else {
        step = perVariableAdam(tf, vars, gradients, lr, t, slots, inits);
      }
      try (Session s = new Session(g)) {
        Session.Runner init = s.runner();
        inits.forEach(init::addTarget);
        init.run().close();
        for (int i = 0; i < lrs.length; i++) {
          try (TFloat32 lrT = TFloat32.scalarOf(lrs[i]); TFloat32 tT = TFloat32.scalarOf(i + 1)) {
            s.runner().feed(lr, lrT).feed(t, tT).addTarget(step).run().close();
          }
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int i = 0; i < vars.size(); i++) {
          out.put("w" + i, read(s, vars.get(i), STARTS[i].length));
        }
        if (adam != null) {
          adam.read(s).forEach((k, w) -> {
            if (!k.equals(KerasAdam.ITERATIONS)) {
              out.put(k, w.data());
            }
          });
        } else {
          slots.forEach((k, v) -> out.put(k, read(s, v, STARTS[Integer.parseInt(k.substring(3))].length)));
        }
        return out;
      }
    }
  }

  /** Keras's update, op by op for each variable with its own slots (the graph the flat slots replaced). */
  private static Op perVariableAdam(Ops tf, List<Variable<TFloat32>> vars, List<Operand<TFloat32>> gradients,
      Operand<TFloat32> lr, Operand<TFloat32> t, Map<String, Variable<TFloat32>> slots, List<Op> inits) {
    List<Op> ready = new ArrayList<>();
    gradients.forEach(g -> ready.add(tf.identity(g)));
    Ops ordered = tf.withControlDependencies(ready);
    Operand<TFloat32> one = ordered.constant(1f);
    Operand<TFloat32> alpha = ordered.math.div(ordered.math.mul(lr, ordered.math.sqrt(ordered.math.sub(one,
        ordered.math.pow(ordered.constant(KerasAdam.BETA_2), t)))),
        ordered.math.sub(one, ordered.math.pow(ordered.constant(KerasAdam.BETA_1), t)));
    List<Op> updates = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      Operand<TFloat32> g = gradients.get(i);
      Variable<TFloat32> m = tf.withName("m_" + i).variable(Shape.of(SHAPES[i]), TFloat32.class);
      Variable<TFloat32> v = tf.withName("v_" + i).variable(Shape.of(SHAPES[i]), TFloat32.class);
      inits.add(tf.assign(m, tf.zeros(tf.constant(SHAPES[i]), TFloat32.class)));
      inits.add(tf.assign(v, tf.zeros(tf.constant(SHAPES[i]), TFloat32.class)));
      slots.put("m/w" + i, m);
      slots.put("v/w" + i, v);
      Operand<TFloat32> mNew = ordered.assignAdd(m, ordered.math.mul(ordered.math.sub(g, m),
          ordered.constant((float) (1.0 - 0.9))));
      Operand<TFloat32> vNew = ordered.assignAdd(v, ordered.math.mul(ordered.math.sub(ordered.math.square(g), v),
          ordered.constant((float) (1.0 - 0.999))));
      updates.add(ordered.assignSub(vars.get(i), ordered.math.div(ordered.math.mul(mNew, alpha),
          ordered.math.add(ordered.math.sqrt(vNew), ordered.constant(KerasAdam.EPSILON)))));
    }
    return tf.withControlDependencies(updates).noOp();
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
