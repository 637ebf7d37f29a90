package dev.bss.model.layers;

/** The Keras initializer a variable is created with (see {@link Initializers} for the Java computation). */
public enum Initializer {
  /** Keras {@code glorot_uniform}: U(-l, l), l = sqrt(6 / (fan_in + fan_out)). */
  GLOROT_UNIFORM,
  /** Keras {@code he_normal}: truncated normal (2 stddev) with stddev sqrt(2 / fan_in) / 0.87962566103423978. */
  HE_NORMAL,
  /** Keras {@code zeros}. */
  ZEROS,
  /** Keras {@code ones}. */
  ONES,
  /** N(0, 1), the notebook's {@code np.random.normal} position embedding. */
  STANDARD_NORMAL
}
