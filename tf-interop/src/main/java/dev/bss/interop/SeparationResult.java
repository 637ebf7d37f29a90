package dev.bss.interop;

/**
 * The two separated images of a batch, each row-major {@code [count, 32, 32, 1]}.
 *
 * @param decoded1 MNIST estimate (Keras output {@code decoded1})
 * @param decoded2 Fashion-MNIST estimate (Keras output {@code decoded2})
 */
public record SeparationResult(float[] decoded1, float[] decoded2) {

  public SeparationResult {
    if (decoded1.length != decoded2.length || decoded1.length % Separator.IMAGE_VALUES != 0) {
      throw new IllegalArgumentException("separation result: outputs of " + decoded1.length + " and "
          + decoded2.length + " values are not two [count, 32, 32, 1] arrays");
    }
  }

  /** Number of images in the batch. */
  public int count() {
    return decoded1.length / Separator.IMAGE_VALUES;
  }
}
