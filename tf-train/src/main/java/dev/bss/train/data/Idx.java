package dev.bss.train.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the gzip-compressed IDX files MNIST and Fashion-MNIST are published as, validating before trusting them.
 *
 * <p>Images: magic 2051, count, rows = 28, columns = 28, then {@code count * 784} unsigned bytes (row-major).
 * Labels: magic 2049, count, then {@code count} unsigned bytes. Header integers are big-endian. A file that is not
 * gzip, is truncated, has the wrong magic or size, or carries trailing bytes gives one {@link IllegalArgumentException}
 * line naming the file, what was expected and what was found.
 */
public final class Idx {

  /** Magic number of an IDX file of unsigned-byte images (0x00000803). */
  public static final int IMAGES_MAGIC = 2051;
  /** Magic number of an IDX file of unsigned-byte labels (0x00000801). */
  public static final int LABELS_MAGIC = 2049;
  /** Side of the raw MNIST / Fashion-MNIST images. */
  public static final int RAW_SIDE = 28;

  private Idx() {}

  /** The raw pixels {@code [count, 28, 28]} (uint8, row-major) of an IDX image file. */
  public static byte[] readImages(Path file) {
    try (InputStream in = open(file)) {
      return readImages(file.toString(), in);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** The labels {@code [count]} (uint8) of an IDX label file. */
  public static byte[] readLabels(Path file) {
    try (InputStream in = open(file)) {
      return readLabels(file.toString(), in);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Like {@link #readImages(Path)} from a gzip stream (e.g. a class-path resource); {@code source} names it. */
  public static byte[] readImages(String source, InputStream gzipped) {
    return read(source, gzipped, IMAGES_MAGIC);
  }

  /** Like {@link #readLabels(Path)} from a gzip stream; {@code source} names it in errors. */
  public static byte[] readLabels(String source, InputStream gzipped) {
    return read(source, gzipped, LABELS_MAGIC);
  }

  private static InputStream open(Path file) throws IOException {
    try {
      return Files.newInputStream(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": file not found");
    }
  }

  /** Most images (or labels) one IDX file may announce. */
  static final long MAX_ITEMS = 250_000;

  private static byte[] read(String source, InputStream gzipped, int expectedMagic) {
    boolean images = expectedMagic == IMAGES_MAGIC;
    String kind = images ? "IDX image file" : "IDX label file";
    try (InputStream in = new GZIPInputStream(new BufferedInputStream(gzipped, 1 << 16), 1 << 16)) {
      byte[] header = in.readNBytes(images ? 16 : 8);
      if (header.length < 8) {
        throw new IllegalArgumentException(source + ": expected an " + kind + " header, found only "
            + header.length + " bytes");
      }
      int magic = bigEndianInt(header, 0);
      if (magic != expectedMagic) {
        String hint = magic == IMAGES_MAGIC ? " (an image file)" : magic == LABELS_MAGIC ? " (a label file)" : "";
        throw new IllegalArgumentException(source + ": expected " + kind + " magic " + expectedMagic + ", found "
            + magic + hint);
      }
      long count = bigEndianInt(header, 4) & 0xFFFFFFFFL;
      long itemBytes = 1;
      if (images) {
        if (header.length < 16) {
          throw new IllegalArgumentException(source + ": expected a 16-byte IDX image header, found only "
              + header.length + " bytes");
        }
        int rows = bigEndianInt(header, 8);
        int cols = bigEndianInt(header, 12);
        if (rows != RAW_SIDE || cols != RAW_SIDE) {
          throw new IllegalArgumentException(source + ": expected 28x28 images, found " + rows + "x" + cols);
        }
        itemBytes = (long) RAW_SIDE * RAW_SIDE;
      }
      long expected = count * itemBytes;
      if (count > MAX_ITEMS) {
        // A small gzip bomb could otherwise inflate to gigabytes: MNIST and Fashion-MNIST have 60,000 at most.
        throw new IllegalArgumentException(source + ": header says " + count + (images ? " images" : " labels")
            + ", more than the " + MAX_ITEMS + " accepted (MNIST and Fashion-MNIST have 60000)");
      }
      // One bulk read into an exact-size array: no per-pixel work, the whole file costs one inflate pass.
      byte[] data = in.readNBytes((int) expected);
      if (data.length < expected) {
        throw new IllegalArgumentException(source + ": header says " + count + (images ? " images" : " labels")
            + " (" + expected + " bytes), file has only " + data.length + " bytes of data");
      }
      // Reading to the end also makes GZIPInputStream check the gzip trailer (CRC-32 and length).
      if (in.read() != -1) {
        throw new IllegalArgumentException(source + ": trailing data after the " + count
            + (images ? " images" : " labels") + " the header announces");
      }
      return data;
    } catch (EOFException e) {
      throw new IllegalArgumentException(source + ": truncated gzip data (the file ends before its gzip stream does"
          + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
    } catch (ZipException e) {
      throw new IllegalArgumentException(source + ": not a valid gzip file (" + e.getMessage() + ")");
    } catch (IOException e) {
      throw new UncheckedIOException(source + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static int bigEndianInt(byte[] b, int offset) {
    return (b[offset] & 0xFF) << 24 | (b[offset + 1] & 0xFF) << 16 | (b[offset + 2] & 0xFF) << 8
        | (b[offset + 3] & 0xFF);
  }
}
