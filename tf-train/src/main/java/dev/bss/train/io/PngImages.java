package dev.bss.train.io;

import dev.bss.interop.AtomicFiles;
import dev.bss.interop.Separator;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Every PNG bss reads or writes: mixture images in ({@code bss separate IMAGE.png}, {@code POST /v1/separate}) and
 * gray images, grids and figures out.
 *
 * <p>Reading: PNG only (checked by signature; BMP, GIF, JPEG and others are refused), 32x32 or 28x28 (the size is
 * read from the IHDR header before anything is decoded; 28x28 is zero-padded by 2 pixels like the training data), any
 * PNG colour type and bit depth. Pixels are taken from the raster, not through Java2D colour conversion (which reads
 * an opaque gray+alpha 128 as 188): gray is used as stored, colour is converted to luma (0.299 R + 0.587 G + 0.114 B),
 * and alpha is composited over black (the background of the training images). Values are scaled by the bit depth's
 * maximum to [0, 1]. Errors are one-line {@link IllegalArgumentException}s starting with the caller's {@code where}.
 *
 * <p>Writing: values are clipped to [0, 1] (NaN as 0) and rounded to 8 bits.
 */
public final class PngImages {

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /** Largest file accepted for a 32x32 image (a plain one is under 2 KB; metadata chunks are never decoded). */
  public static final long MAX_FILE_BYTES = 4L << 20;

  private PngImages() {}

  /**
   * A mixture image file as 1024 values in [0, 1].
   *
   * @param where names the input in errors, e.g. {@code IMAGE a.png}
   */
  public static float[] readMixture(Path file, String where) {
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(where + ": is a directory, expected a PNG file");
    }
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(where + ": no such file");
    }
    try (InputStream in = Files.newInputStream(file)) {
      checkHeader(in.readNBytes(24), where);
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new IllegalArgumentException(where + ": " + Files.size(file) + " bytes, more than the "
            + MAX_FILE_BYTES + " accepted for a 32x32 image");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(where + ": unreadable (" + e.getMessage() + ")", e);
    }
    byte[] png;
    try {
      png = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(where + ": unreadable (" + e.getMessage() + ")", e);
    }
    return readMixture(png, where);
  }

  /**
   * A mixture PNG held in memory (a request body) as 1024 values in [0, 1].
   *
   * @param where names the input in errors, e.g. {@code body}
   */
  public static float[] readMixture(byte[] png, String where) {
    int[] size = checkHeader(Arrays.copyOf(png, Math.min(png.length, 24)), where);
    int width = size[0];
    int height = size[1];
    int pad = width == 28 ? 2 : 0;
    BufferedImage img = decode(png, where);
    if (img.getWidth() != width || img.getHeight() != height) {
      throw new IllegalArgumentException(where + ": damaged PNG (decoded " + img.getWidth() + "x" + img.getHeight()
          + ", header says " + width + "x" + height + ")");
    }
    float[] values = new float[Separator.IMAGE_VALUES];
    ColorModel cm = img.getColorModel();
    Raster raster = img.getRaster();
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        values[(y + pad) * 32 + x + pad] = gray(cm, raster, x, y);
      }
    }
    return values;
  }

  /** Signature, IHDR and size of the first 24 bytes; returns {width, height} (32x32 or 28x28). */
  private static int[] checkHeader(byte[] head, String where) {
    if (head.length < 8 || !Arrays.equals(head, 0, 8, SIGNATURE, 0, 8)) {
      throw new IllegalArgumentException(where + ": expected a PNG image, found " + describeFormat(head)
          + " (only PNG images are accepted)");
    }
    if (head.length < 24 || head[12] != 'I' || head[13] != 'H' || head[14] != 'D' || head[15] != 'R') {
      throw new IllegalArgumentException(where + ": damaged PNG (no IHDR header chunk)");
    }
    int width = bigEndianInt(head, 16);
    int height = bigEndianInt(head, 20);
    if (!(width == 32 && height == 32) && !(width == 28 && height == 28)) {
      throw new IllegalArgumentException(where + ": expected a 32x32 (or 28x28) image, found "
          + Integer.toUnsignedString(width) + "x" + Integer.toUnsignedString(height));
    }
    return new int[] {width, height};
  }

  /** One pixel in [0, 1]: gray or luma, times alpha. */
  static float gray(ColorModel cm, Raster raster, int x, int y) {
    if (cm instanceof IndexColorModel icm) {
      int argb = icm.getRGB(raster.getSample(x, y, 0));
      double luma = luma((argb >> 16) & 0xFF, (argb >> 8) & 0xFF, argb & 0xFF) / 255.0;
      return (float) (luma * ((argb >>> 24) / 255.0));
    }
    int bands = raster.getNumBands();
    double max = (1L << cm.getComponentSize(0)) - 1;
    boolean alpha = cm.hasAlpha();
    int colours = alpha ? bands - 1 : bands;
    double value = colours >= 3
        ? luma(raster.getSample(x, y, 0), raster.getSample(x, y, 1), raster.getSample(x, y, 2)) / max
        : raster.getSample(x, y, 0) / max;
    if (alpha) {
      value *= raster.getSample(x, y, bands - 1) / (double) ((1L << cm.getComponentSize(bands - 1)) - 1);
    }
    return (float) value;
  }

  private static double luma(double r, double g, double b) {
    return r == g && g == b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
  }

  private static BufferedImage decode(byte[] png, String where) {
    try (ImageInputStream stream = ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(png))) {
      Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("png");
      if (!readers.hasNext()) {
        throw new IllegalStateException("no PNG reader in this Java runtime");
      }
      ImageReader reader = readers.next();
      try {
        // ignoreMetadata: text and ICC chunks (which can be compressed bombs) are skipped, not inflated.
        reader.setInput(stream, true, true);
        return reader.read(0);
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(where + ": damaged PNG (" + e.getMessage() + ")", e);
    }
  }

  private static String describeFormat(byte[] head) {
    if (head.length == 0) {
      return "no bytes (empty)";
    }
    if (head.length >= 2 && head[0] == 'B' && head[1] == 'M') {
      return "a BMP image";
    }
    if (head.length >= 3 && head[0] == 'G' && head[1] == 'I' && head[2] == 'F') {
      return "a GIF image";
    }
    if (head.length >= 3 && (head[0] & 0xFF) == 0xFF && (head[1] & 0xFF) == 0xD8 && (head[2] & 0xFF) == 0xFF) {
      return "a JPEG image";
    }
    return "no PNG signature (\\x89PNG) at the start";
  }

  private static int bigEndianInt(byte[] b, int offset) {
    return (b[offset] & 0xFF) << 24 | (b[offset + 1] & 0xFF) << 16 | (b[offset + 2] & 0xFF) << 8
        | (b[offset + 3] & 0xFF);
  }

  /** Image {@code index} of {@code data} ({@code [N, 32, 32]} values) as an 8-bit gray image, magnified by {@code scale}. */
  public static BufferedImage grayImage(float[] data, int index, int scale) {
    BufferedImage img = new BufferedImage(32 * scale, 32 * scale, BufferedImage.TYPE_BYTE_GRAY);
    paint(img, data, index, 0, 0, scale);
    return img;
  }

  /**
   * Paints image {@code index} of {@code data} at ({@code x0}, {@code y0}), each value a {@code scale x scale} square
   * of its gray level in every band (gray or RGB images alike).
   */
  public static void paint(BufferedImage img, float[] data, int index, int x0, int y0, int scale) {
    WritableRaster raster = img.getRaster();
    int bands = raster.getNumBands();
    int base = index * Separator.IMAGE_VALUES;
    for (int y = 0; y < 32 * scale; y++) {
      for (int x = 0; x < 32 * scale; x++) {
        float v = data[base + (y / scale) * 32 + x / scale];
        int g = Math.round(Math.max(0f, Math.min(1f, Float.isNaN(v) ? 0f : v)) * 255f);
        for (int b = 0; b < bands; b++) {
          raster.setSample(x0 + x, y0 + y, b, g);
        }
      }
    }
  }

  /** Image {@code index} of {@code data} as the bytes of an 8-bit gray 32x32 PNG. */
  public static byte[] grayPng(float[] data, int index) {
    return encode(grayImage(data, index, 1));
  }

  /** A PNG's bytes. */
  public static byte[] encode(BufferedImage img) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, "png", out)) {
        throw new IllegalStateException("no PNG writer");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Writes a PNG file atomically (no half-written file is ever seen). */
  public static void write(Path file, BufferedImage img) {
    AtomicFiles.writeStream(file, out -> {
      if (!ImageIO.write(img, "png", out)) {
        throw new IOException("no PNG writer");
      }
    });
  }
}
