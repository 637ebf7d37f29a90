package dev.bss.train.cli;

import dev.bss.interop.Separator;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reads mixture images: PNG only (checked by signature; BMP, GIF, JPEG and others are refused), 32x32 or 28x28 (the
 * size is read from the IHDR header before anything is decoded), any PNG colour type and bit depth.
 *
 * <p>Pixels are taken from the raster, not through Java2D colour conversion (which reads an opaque gray+alpha 128
 * as 188): gray is used as stored, colour is converted to luma (0.299 R + 0.587 G + 0.114 B), and alpha is composited
 * over black (the background of the training images). Values are scaled by the bit depth's maximum to [0, 1].
 */
final class PngImages {

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /** Largest file accepted for a 32x32 image (a plain one is under 2 KB; metadata chunks are never decoded). */
  static final long MAX_FILE_BYTES = 4L << 20;

  private PngImages() {}

  /** A mixture image as 1024 values in [0, 1]; 28x28 images are zero-padded by 2 pixels like the training data. */
  static float[] read(Path file) {
    String where = "IMAGE " + file;
    if (Files.isDirectory(file)) {
      throw new Cli.UserException(where + ": is a directory, expected a PNG file");
    }
    if (!Files.exists(file)) {
      throw new Cli.UserException(where + ": no such file");
    }
    int width;
    int height;
    try (InputStream in = Files.newInputStream(file)) {
      byte[] head = in.readNBytes(24);
      if (head.length < 8 || !java.util.Arrays.equals(head, 0, 8, SIGNATURE, 0, 8)) {
        throw new Cli.UserException(where + ": not a PNG file (" + describeFormat(head) + "); only PNG images are "
            + "accepted");
      }
      if (head.length < 24 || head[12] != 'I' || head[13] != 'H' || head[14] != 'D' || head[15] != 'R') {
        throw new Cli.UserException(where + ": damaged PNG (no IHDR header chunk)");
      }
      width = bigEndianInt(head, 16);
      height = bigEndianInt(head, 20);
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new Cli.UserException(where + ": " + Files.size(file) + " bytes, more than the " + MAX_FILE_BYTES
            + " accepted for a 32x32 image");
      }
    } catch (IOException e) {
      throw new Cli.UserException(where + ": unreadable (" + e.getMessage() + ")", e);
    }
    int pad;
    if (width == 32 && height == 32) {
      pad = 0;
    } else if (width == 28 && height == 28) {
      pad = 2;
    } else {
      throw new Cli.UserException(where + ": expected a 32x32 (or 28x28) image, found " + Integer.toUnsignedString(width)
          + "x" + Integer.toUnsignedString(height));
    }
    BufferedImage img = decode(file, where);
    if (img.getWidth() != width || img.getHeight() != height) {
      throw new Cli.UserException(where + ": damaged PNG (decoded " + img.getWidth() + "x" + img.getHeight()
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

  private static BufferedImage decode(Path file, String where) {
    try (ImageInputStream stream = ImageIO.createImageInputStream(file.toFile())) {
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
      throw new Cli.UserException(where + ": damaged PNG (" + e.getMessage() + ")", e);
    }
  }

  private static String describeFormat(byte[] head) {
    if (head.length == 0) {
      return "an empty file";
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
    return "no PNG signature \\x89PNG at the start";
  }

  private static int bigEndianInt(byte[] b, int offset) {
    return (b[offset] & 0xFF) << 24 | (b[offset + 1] & 0xFF) << 16 | (b[offset + 2] & 0xFF) << 8
        | (b[offset + 3] & 0xFF);
  }
}
