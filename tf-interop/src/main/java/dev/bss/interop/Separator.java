package dev.bss.interop;

/**
 * A loaded model that separates mixtures: input {@code [count, 32, 32, 1]} row-major floats in [0, 1], output the
 * MNIST estimate {@code decoded1} and the Fashion-MNIST estimate {@code decoded2}, each of the same shape.
 *
 * <p>Made by {@link Separators#open(java.nio.file.Path)} from any supported model file; owns a TensorFlow session,
 * so close it.
 */
public interface Separator extends Separation, AutoCloseable {

  /** Values in one {@code 32 x 32 x 1} image ({@link dev.bss.model.ModelConfig#IMAGE_VALUES}). */
  int IMAGE_VALUES = dev.bss.model.ModelConfig.IMAGE_VALUES;

  /**
   * Runs the inference branch on {@code count} mixtures.
   *
   * @param mixtures {@code count * 1024} values, row-major {@code [count, 32, 32, 1]}
   * @throws IllegalArgumentException when {@code mixtures.length != count * 1024}
   */
  @Override
  SeparationResult separate(float[] mixtures, int count);

  /** One line saying what was loaded: format, file and, where known, the config. */
  String description();

  @Override
  void close();

  /** Checks the input size; shared by the implementations. */
  static void checkInput(float[] mixtures, int count) {
    if (count < 0 || mixtures == null || (long) count * IMAGE_VALUES != mixtures.length) {
      throw new IllegalArgumentException("separate: expected " + count + " x 32 x 32 x 1 = " + ((long) count * IMAGE_VALUES)
          + " input values, found " + (mixtures == null ? "null" : String.valueOf(mixtures.length)));
    }
  }
}
