package dev.bss.model;

import java.util.List;
import org.tensorflow.Session;

/**
 * Every variable of a {@link SeparationModel} under its Keras path, in Keras's creation order.
 * CONTRACT (shared by tf-interop and tf-train); the implementation is filled in by the model work.
 */
public final class VariableRegistry {

  private VariableRegistry() {}

  /** All variables, Keras creation order; the position embedding ({@link WeightSet#POSITION_EMBEDDING}) is included. */
  public List<ModelVariable> all() {
    throw new UnsupportedOperationException();
  }

  /** The variables the optimizer trains. */
  public List<ModelVariable> trainable() {
    throw new UnsupportedOperationException();
  }

  /** The variable at a Keras path; IllegalArgumentException naming the path if there is none. */
  public ModelVariable get(String path) {
    throw new UnsupportedOperationException();
  }

  /**
   * Validates {@code weights} against every variable, then assigns them all in one session run.
   *
   * @throws IllegalArgumentException listing at once every missing, unexpected, mis-shaped or non-finite weight
   *     (e.g. {@code conv2d_transpose_3/kernel: expected [3, 3, 64, 128], found [3, 3, 128, 64]}); nothing is assigned
   */
  public void assign(Session session, WeightSet weights) {
    throw new UnsupportedOperationException();
  }

  /** Reads every variable's current value, in {@link #all()} order. */
  public WeightSet read(Session session) {
    throw new UnsupportedOperationException();
  }

  /**
   * Keras-initialized values (glorot_uniform kernels, he_normal in CBAM, zero biases, BN/LN ones and zeros, and a
   * N(0, 1) position embedding), computed in Java from {@code seed}: the same seed gives the same values.
   */
  public WeightSet initialValues(long seed) {
    throw new UnsupportedOperationException();
  }

  /** Keras's total parameter count (position embedding excluded unless trainable). */
  public long parameterCount() {
    throw new UnsupportedOperationException();
  }

  /** Keras's trainable parameter count. */
  public long trainableParameterCount() {
    throw new UnsupportedOperationException();
  }

  /** Keras's non-trainable parameter count (BN moving statistics). */
  public long nonTrainableParameterCount() {
    throw new UnsupportedOperationException();
  }
}
