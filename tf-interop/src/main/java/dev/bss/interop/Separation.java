package dev.bss.interop;

import java.util.Arrays;

/**
 * Separates a batch of mixtures: the one inference step every caller shares ({@link Separator}s loaded from files,
 * the training graph during evaluation, test doubles), plus the one chunked loop over many mixtures.
 */
@FunctionalInterface
public interface Separation {

  /**
   * Mixtures per call of {@link #separate} in {@link #separateAll}: bounds the activation memory of the seed network
   * to a few hundred MB.
   */
  int CHUNK = 256;

  /**
   * Separates {@code count} mixtures.
   *
   * @param mixtures {@code count * 1024} values, row-major {@code [count, 32, 32, 1]}
   */
  SeparationResult separate(float[] mixtures, int count);

  /**
   * Separates every mixture of {@code mixtures} ({@code [N, 32, 32, 1]}), {@link #CHUNK} at a time; the result holds
   * the outputs in input order.
   *
   * @throws IllegalArgumentException when the length is not a multiple of 1024
   */
  default SeparationResult separateAll(float[] mixtures) {
    return separateAll(mixtures, CHUNK);
  }

  /**
   * As {@link #separateAll(float[])}, {@code chunk} mixtures per call of {@link #separate} (e.g. a training run's
   * batch size, so validation runs the batches Keras's {@code fit} would).
   *
   * @throws IllegalArgumentException when the length is not a multiple of 1024 or {@code chunk < 1}
   */
  default SeparationResult separateAll(float[] mixtures, int chunk) {
    if (chunk < 1) {
      throw new IllegalArgumentException("separate: expected a chunk of at least 1 mixture, found " + chunk);
    }
    int per = Separator.IMAGE_VALUES;
    if (mixtures.length % per != 0) {
      throw new IllegalArgumentException("separate: expected [N, 32, 32, 1] input values, found " + mixtures.length
          + " (not a multiple of " + per + ")");
    }
    int count = mixtures.length / per;
    if (count <= chunk) {
      return separate(mixtures, count);
    }
    float[] d1 = new float[mixtures.length];
    float[] d2 = new float[mixtures.length];
    for (int start = 0; start < count; start += chunk) {
      int n = Math.min(chunk, count - start);
      SeparationResult r = separate(Arrays.copyOfRange(mixtures, start * per, (start + n) * per), n);
      System.arraycopy(r.decoded1(), 0, d1, start * per, n * per);
      System.arraycopy(r.decoded2(), 0, d2, start * per, n * per);
    }
    return new SeparationResult(d1, d2);
  }
}
