package dev.bss.model.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** The closed-form BatchNormalization gradient against TensorFlow's derivative of Keras's formula. */
class BatchNormGradientTest {

  private static final long[] SHAPE = {5, 3, 4, 3};

  @Test
  void closedFormMatchesTheDerivedGradientAndLeavesTheValueAlone() {
    assertTrue(BatchNormGradient.enabled(), "the IdentityN gradient is registered on this platform");
    Random random = new Random(11);
    int n = (int) (SHAPE[0] * SHAPE[1] * SHAPE[2] * SHAPE[3]);
    float[] x = new float[n];
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      int channel = i % 3;
      // channel 2 nearly constant: the case where E[x^2] - E[x]^2 cancels
      x[i] = channel == 2 ? 3f + 1e-3f * (float) random.nextGaussian() : (float) random.nextGaussian() * (1 + channel);
      w[i] = (float) random.nextGaussian();
    }
    float[] gamma = {1.5f, -0.7f, 2f};
    float[] beta = {0.1f, 0.2f, -0.3f};
    float[][] derived = run(x, w, gamma, beta, false);
    float[][] closed = run(x, w, gamma, beta, true);
    assertArrayEquals(derived[0], closed[0], "the forward value is Keras's formula, bit for bit");
    // the derived gradient broadcasts d(mean) and d(variance) back with Tile ops; the closed form has none (the one
    // left is the loss's sum)
    assertEquals(1f, closed[4][0], "Tile ops with the closed form");
    assertTrue(derived[4][0] > 1f, "Tile ops of the derived gradient: " + derived[4][0]);
    String[] names = {"dx", "dgamma", "dbeta"};
    for (int k = 1; k <= 3; k++) {
      double error = relativeL2(closed[k], derived[k]);
      assertTrue(error < 2e-5, names[k - 1] + ": relative L2 difference " + error);
    }
  }

  @Test
  void otherIdentityNOpsKeepTheIdentityGradient() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> a = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(2)));
      Placeholder<TFloat32> b = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(2)));
      var id = tf.identityN(List.of(a, b));
      @SuppressWarnings("unchecked")
      Operand<TFloat32> first = (Operand<TFloat32>) (Operand<?>) id.output().get(0);
      @SuppressWarnings("unchecked")
      Operand<TFloat32> second = (Operand<TFloat32>) (Operand<?>) id.output().get(1);
      Operand<TFloat32> loss = tf.reduceSum(tf.math.add(tf.math.mul(first, tf.constant(3f)), second),
          tf.constant(0));
      Output<?>[] grads = g.addGradients(loss.asOutput(), new Output<?>[] {a.asOutput(), b.asOutput()});
      try (TFloat32 av = TFloat32.vectorOf(1f, 2f); TFloat32 bv = TFloat32.vectorOf(3f, 4f);
          Result r = s.runner().feed(a, av).feed(b, bv).fetch(grads[0]).fetch(grads[1]).run()) {
        assertArrayEquals(new float[] {3f, 3f}, values((TFloat32) r.get(0)));
        assertArrayEquals(new float[] {1f, 1f}, values((TFloat32) r.get(1)));
      }
    }
  }

  /** Output, d/dx, d/dgamma, d/dbeta of {@code sum(w * y + y^2 / 2)}, and the graph's number of Tile ops. */
  private static float[][] run(float[] x, float[] w, float[] gamma, float[] beta, boolean closedForm) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> xp = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3, 4, 3)));
      Placeholder<TFloat32> gp = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(3)));
      Placeholder<TFloat32> bp = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(3)));
      BatchNormalization.Statistics st = BatchNormalization.training(tf, xp, gp, bp);
      Operand<TFloat32> y = closedForm
          ? BatchNormGradient.attach(tf, "bn", st.output(), xp, gp, bp, st.mean(), st.variance())
          : st.output();
      Operand<TFloat32> loss = tf.reduceSum(tf.math.add(tf.math.mul(y, tf.constant(Shape.of(SHAPE),
          DataBuffers.of(w, true, false))), tf.math.mul(tf.math.square(y), tf.constant(0.5f))),
          tf.constant(new int[] {0, 1, 2, 3}));
      Output<?>[] grads = g.addGradients(loss.asOutput(),
          new Output<?>[] {xp.asOutput(), gp.asOutput(), bp.asOutput()});
      try (TFloat32 xt = TFloat32.tensorOf(Shape.of(SHAPE), DataBuffers.of(x, true, false));
          TFloat32 gt = TFloat32.vectorOf(gamma); TFloat32 bt = TFloat32.vectorOf(beta);
          Result r = s.runner().feed(xp, xt).feed(gp, gt).feed(bp, bt).fetch(y).fetch(grads[0]).fetch(grads[1])
              .fetch(grads[2]).run()) {
        return new float[][] {values((TFloat32) r.get(0)), values((TFloat32) r.get(1)),
            values((TFloat32) r.get(2)), values((TFloat32) r.get(3)), {countOps(g, "Tile")}};
      }
    }
  }

  private static long countOps(Graph g, String type) {
    long count = 0;
    var it = g.operations();
    while (it.hasNext()) {
      count += ((GraphOperation) it.next()).type().equals(type) ? 1 : 0;
    }
    return count;
  }

  private static double relativeL2(float[] a, float[] b) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < a.length; i++) {
      diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
      norm += b[i] * (double) b[i];
    }
    return Math.sqrt(diff / norm);
  }

  private static float[] values(TFloat32 t) {
    float[] v = new float[Math.toIntExact(t.shape().size())];
    t.asRawTensor().data().asFloats().read(v);
    return v;
  }
}
