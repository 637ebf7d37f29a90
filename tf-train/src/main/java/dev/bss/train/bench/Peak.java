package dev.bss.train.bench;

import java.util.Arrays;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * The machine's FP32 matrix-multiply peak as TensorFlow reaches it in this process: an {@code n x n} by
 * {@code n x n} {@code MatMul} of two variables (so nothing is constant-folded and nothing is fed), run in a session
 * with the benchmark's own config (threads, device), counted at {@code 2 n^3} FLOPs. The peak is the best of the
 * timed runs (the least disturbed by other processes); the median is reported next to it.
 */
public final class Peak {

  /**
   * A measured peak.
   *
   * @param size n of the {@code n x n} matrices
   * @param runs timed runs
   * @param bestGflops best run's GFLOP/s (the peak)
   * @param medianGflops median run's GFLOP/s
   * @param gflopsPerCpuSecond FLOPs of all timed runs over the process CPU time they took (robust to other load)
   */
  public record Measurement(int size, int runs, double bestGflops, double medianGflops, double gflopsPerCpuSecond) {}

  /** Default matrix size: large enough for the kernel's steady state, ~17 GFLOP a run. */
  public static final int DEFAULT_SIZE = 2048;

  private Peak() {}

  /** Measures the peak with {@code runs} timed runs after two warm-up runs. */
  public static Measurement measure(ConfigProto sessionConfig, int size, int runs) {
    if (size < 1 || runs < 1) {
      throw new IllegalArgumentException("peak: size and runs must be positive, found " + size + " and " + runs);
    }
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Operand<TFloat32> init = tf.random.randomUniform(tf.constant(new long[] {size, size}), TFloat32.class);
      Variable<TFloat32> a = tf.withName("peak_a").variable(Shape.of(size, size), TFloat32.class);
      Variable<TFloat32> b = tf.withName("peak_b").variable(Shape.of(size, size), TFloat32.class);
      var assignA = tf.assign(a, init);
      var assignB = tf.assign(b, init);
      // The sum keeps the fetched result a scalar (no 16 MB copy out per run; ~n^2 FLOPs, not counted).
      Operand<TFloat32> product = tf.sum(tf.linalg.matMul(a, b), tf.constant(new int[] {0, 1}));
      try (Session session = sessionConfig == null ? new Session(graph) : new Session(graph, sessionConfig)) {
        session.runner().addTarget(assignA).addTarget(assignB).run().close();
        for (int i = 0; i < 2; i++) {
          session.runner().fetch(product).run().close();
        }
        double[] gflops = new double[runs];
        double flops = 2.0 * size * size * (double) size;
        long cpu0 = CpuTime.processNanos();
        for (int i = 0; i < runs; i++) {
          long t0 = System.nanoTime();
          session.runner().fetch(product).run().close();
          gflops[i] = flops / (System.nanoTime() - t0);
        }
        long cpu = CpuTime.processNanos() - cpu0;
        Arrays.sort(gflops);
        return new Measurement(size, runs, gflops[runs - 1], gflops[runs / 2], flops * runs / Math.max(1, cpu));
      }
    }
  }
}
