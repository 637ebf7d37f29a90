package dev.bss.train.data;

import dev.bss.model.ModelConfig;
import java.util.Arrays;

/**
 * One set of images (e.g. the MNIST training set) kept compactly as zero-padded uint8 {@code [n, 32, 32]} plus labels.
 *
 * <p>The seed's preprocessing (SPEC "Data"): every 28x28 image is zero-padded by 2 pixels on each side to 32x32 (no
 * resize), divided by 255 and given a channel axis, so the model sees {@code [n, 32, 32, 1]} float32 in [0, 1]. The
 * division is done in float64 and rounded to float32 once, like {@code np.pad(x) / 255.0} followed by
 * {@code .astype("float32")}; for single images this equals a float32 division. Conversion happens per batch through
 * a lookup table, so a set costs 1 KiB per image instead of 4 KiB.
 */
public final class ImageSet {

  /** Side of a preprocessed image. */
  public static final int SIDE = ModelConfig.IMAGE_SIZE;
  /** Pixels of a preprocessed image, {@code 32 * 32} (one channel). */
  public static final int PIXELS = ModelConfig.IMAGE_VALUES;
  /** Zero padding added on every side of a 28x28 image. */
  public static final int PAD = (SIDE - Idx.RAW_SIDE) / 2;

  // value / 255 computed in float64, rounded to float32 once: the seed's (and the fixtures') rounding.
  private static final float[] SCALED = new float[256];

  static {
    for (int v = 0; v < 256; v++) {
      SCALED[v] = (float) (v / 255.0);
    }
  }

  private final String name;
  private final byte[] padded;
  private final byte[] labels;
  private final int size;

  private ImageSet(String name, byte[] padded, byte[] labels) {
    this.name = name;
    this.padded = padded;
    this.labels = labels;
    this.size = padded.length / PIXELS;
  }

  /**
   * Pads raw images {@code [n, 28, 28]} (uint8, row-major, e.g. from {@link Idx#readImages}) to 32x32.
   *
   * @param name what the set is, for messages and provenance, e.g. {@code "mnist train"}
   * @param raw {@code n * 784} pixels
   * @param labels {@code n} class labels (0-9)
   */
  public static ImageSet fromRaw(String name, byte[] raw, byte[] labels) {
    int rawPixels = Idx.RAW_SIDE * Idx.RAW_SIDE;
    if (raw.length % rawPixels != 0) {
      throw new IllegalArgumentException(name + ": expected a multiple of 784 pixels (28x28 images), found "
          + raw.length);
    }
    int n = raw.length / rawPixels;
    if (labels.length != n) {
      throw new IllegalArgumentException(name + ": " + n + " images but " + labels.length + " labels");
    }
    for (int i = 0; i < labels.length; i++) {
      if ((labels[i] & 0xFF) > 9) {
        throw new IllegalArgumentException(name + ": expected labels 0-9, found " + (labels[i] & 0xFF)
            + " at index " + i);
      }
    }
    byte[] padded = new byte[n * PIXELS];
    for (int i = 0; i < n; i++) {
      for (int row = 0; row < Idx.RAW_SIDE; row++) {
        System.arraycopy(raw, i * rawPixels + row * Idx.RAW_SIDE, padded,
            i * PIXELS + (row + PAD) * SIDE + PAD, Idx.RAW_SIDE);
      }
    }
    return new ImageSet(name, padded, labels.clone());
  }

  /** What the set is, e.g. {@code "mnist train"}. */
  public String name() {
    return name;
  }

  /** Number of images. */
  public int size() {
    return size;
  }

  /** The class label (0-9) of image {@code index}. */
  public int label(int index) {
    return labels[index] & 0xFF;
  }

  /** The padded uint8 value (0-255) of one pixel, {@code row} and {@code col} in 0..31. */
  public int pixel(int index, int row, int col) {
    return padded[index * PIXELS + row * SIDE + col] & 0xFF;
  }

  /** Sum of all raw uint8 pixel values (the padding adds zeros), a cheap checksum of what was loaded. */
  public long pixelSum() {
    long sum = 0;
    for (byte b : padded) {
      sum += b & 0xFF;
    }
    return sum;
  }

  /** Writes image {@code index} preprocessed ({@code [32, 32, 1]} float32 in [0, 1]) into {@code out} at offset. */
  public void copyTo(int index, float[] out, int offset) {
    int base = index * PIXELS;
    for (int p = 0; p < PIXELS; p++) {
      out[offset + p] = SCALED[padded[base + p] & 0xFF];
    }
  }

  /** Images {@code from .. from + count - 1} preprocessed, {@code [count, 32, 32, 1]} row-major. */
  public float[] toFloats(int from, int count) {
    if (from < 0 || count < 0 || from + count > size) {
      throw new IndexOutOfBoundsException(name + ": images " + from + ".." + (from + count) + " of " + size);
    }
    float[] out = new float[count * PIXELS];
    for (int i = 0; i < count; i++) {
      copyTo(from + i, out, i * PIXELS);
    }
    return out;
  }

  /** The first {@code count} images (and labels) as a new set. */
  public ImageSet head(int count) {
    if (count < 0 || count > size) {
      throw new IllegalArgumentException(name + ": cannot take " + count + " of " + size + " images");
    }
    return new ImageSet(name, Arrays.copyOf(padded, count * PIXELS), Arrays.copyOf(labels, count));
  }

  /** The preprocessed float32 value of a uint8 pixel value (v / 255 in float64, rounded once). */
  public static float scaled(int value) {
    return SCALED[value];
  }

  byte[] paddedPixels() {
    return padded;
  }

  @Override
  public String toString() {
    return name + " (" + size + " images)";
  }
}
