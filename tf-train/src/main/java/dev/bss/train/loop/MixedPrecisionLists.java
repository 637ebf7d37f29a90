package dev.bss.train.loop;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.List;

/**
 * Narrows TensorFlow's oneDNN bf16 rewrite to Keras's {@code mixed_bfloat16}: normalization statistics, softmax,
 * the output sigmoid and the loss stay in float32, as Keras 3 keeps BatchNormalization and the loss in float32.
 *
 * <p>The rewrite's stock lists also turn {@code Mean}, {@code Square}, {@code Rsqrt}, {@code Softmax},
 * {@code Sigmoid} and {@code SquaredDifference} (BatchNormalization's and LayerNormalization's statistics, attention,
 * the outputs and the loss) into bf16 ops when they sit between bf16 matrix products. On the quick preset's seed 2
 * (evaluation MSE, float32 0.00650) the stock lists with TensorFlow's fused BatchNormalization gave 0.0239; these
 * lists with it 0.0146; these lists with Keras's BatchNormalization formula, as bss builds it, 0.00785.
 * TensorFlow takes changes to the lists only from two environment variables, read when a session's graph is
 * optimized, so they are set in this process (through libc's {@code setenv}) before the first bf16 session. A value
 * the user already exported is left alone.
 */
final class MixedPrecisionLists {

  /** Ops added to the rewrite's deny list (kept in float32). */
  static final String DENY_ADD = "TF_AUTO_MIXED_PRECISION_GRAPH_REWRITE_DENYLIST_ADD";
  /** Ops removed from the rewrite's infer list (the same ops; a deny op must not also be inferred). */
  static final String INFER_REMOVE = "TF_AUTO_MIXED_PRECISION_GRAPH_REWRITE_INFERLIST_REMOVE";

  /** The op types kept in float32 under bf16, in addition to TensorFlow's own deny list. */
  static final List<String> FLOAT32_OPS = List.of("Mean", "Sum", "Square", "SquaredDifference", "Rsqrt", "Sqrt",
      "RealDiv", "Softmax", "Sigmoid", "SigmoidGrad");

  private static boolean installed;

  private MixedPrecisionLists() {}

  /**
   * libc's environment functions (glibc, musl and macOS all have them); {@code getenv} reads what {@code setenv}
   * wrote, where Java's {@link System#getenv} is a copy taken at start-up.
   */
  interface LibC extends Library {
    int setenv(String name, String value, int overwrite);

    String getenv(String name);
  }

  /**
   * Sets {@link #DENY_ADD} and {@link #INFER_REMOVE} to {@link #FLOAT32_OPS} in this process's environment unless
   * already set. Idempotent.
   *
   * @throws IllegalStateException (one line) when the environment cannot be changed
   */
  static synchronized void install() {
    if (installed) {
      return;
    }
    String ops = String.join(",", FLOAT32_OPS);
    LibC libc;
    try {
      libc = Native.load("c", LibC.class);
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      throw new IllegalStateException("--precision bf16: cannot load the C library to set " + DENY_ADD + " ("
          + e.getMessage() + "); export " + DENY_ADD + " and " + INFER_REMOVE + "=" + ops + " yourself");
    }
    for (String name : List.of(DENY_ADD, INFER_REMOVE)) {
      if (libc.setenv(name, ops, 0) != 0) {
        throw new IllegalStateException("--precision bf16: setenv(" + name + ") failed");
      }
    }
    installed = true;
  }
}
