package dev.bss.interop.numpy;

import dev.bss.model.Weight;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One array as read from a {@code .npy} file (or an {@code .npz} member): its dtype, shape and raw little-endian bytes.
 *
 * <p>Readers validate the header and that {@code bytes.length == product(shape) * itemSize(dtype)} before building one,
 * so every accessor can trust the sizes.
 *
 * @param source the file (and npz member) it came from, used in error messages
 * @param dtype the NumPy dtype descriptor, normalised to one of {@code <f4 <f8 |u1 <i4 <i8}
 * @param shape dimensions in C (row-major) order
 * @param bytes the raw element bytes, little-endian, row-major
 */
public record NpyArray(String source, String dtype, long[] shape, byte[] bytes) {

  public NpyArray {
    shape = shape.clone();
    long expected = elementCount(shape) * itemSize(dtype);
    if (expected != bytes.length) {
      throw new IllegalArgumentException(source + ": shape " + Arrays.toString(shape) + " with dtype " + dtype
          + " needs " + expected + " data bytes, found " + bytes.length);
    }
  }

  /** Number of elements, {@code product(shape)}. */
  public long size() {
    return elementCount(shape);
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** The values as float32 (float64 is rounded, integers converted exactly up to 2^24) in a {@link Weight}. */
  public Weight toWeight() {
    long n = size();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(source + ": " + n + " elements do not fit in one Java array");
    }
    float[] values = new float[(int) n];
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case "<f4" -> buffer.asFloatBuffer().get(values);
      case "<f8" -> {
        var doubles = buffer.asDoubleBuffer();
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) doubles.get(i);
        }
      }
      case "|u1" -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = bytes[i] & 0xFF;
        }
      }
      case "<i4" -> {
        var ints = buffer.asIntBuffer();
        for (int i = 0; i < values.length; i++) {
          values[i] = ints.get(i);
        }
      }
      case "<i8" -> {
        var longs = buffer.asLongBuffer();
        for (int i = 0; i < values.length; i++) {
          values[i] = longs.get(i);
        }
      }
      default -> throw new IllegalStateException("unreachable dtype " + dtype);
    }
    return new Weight(shape, values);
  }

  /** The raw unsigned bytes of a {@code |u1} array (no copy: do not modify). */
  public byte[] uint8() {
    if (!dtype.equals("|u1")) {
      throw new IllegalArgumentException(source + ": expected dtype uint8 (|u1), found " + dtype);
    }
    return bytes;
  }

  /** The values of an integer or uint8 array as longs (for labels). */
  public long[] toLongs() {
    int n = (int) size();
    long[] values = new long[n];
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case "|u1" -> {
        for (int i = 0; i < n; i++) {
          values[i] = bytes[i] & 0xFF;
        }
      }
      case "<i4" -> {
        for (int i = 0; i < n; i++) {
          values[i] = buffer.getInt(4 * i);
        }
      }
      case "<i8" -> buffer.asLongBuffer().get(values);
      default -> throw new IllegalArgumentException(source + ": expected an integer dtype (|u1, <i4, <i8), found "
          + dtype);
    }
    return values;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NpyArray a && dtype.equals(a.dtype) && Arrays.equals(shape, a.shape)
        && Arrays.equals(bytes, a.bytes);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "NpyArray[" + source + ", " + dtype + ", " + Arrays.toString(shape) + "]";
  }

  /** Bytes per element of a supported dtype descriptor. */
  static int itemSize(String dtype) {
    return switch (dtype) {
      case "<f4", "<i4" -> 4;
      case "<f8", "<i8" -> 8;
      case "|u1" -> 1;
      default -> throw new IllegalArgumentException("unsupported dtype " + dtype);
    };
  }

  static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }
}
