package dev.bss.train.serve;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import javax.imageio.ImageIO;

/**
 * PNG mixtures in and separated images out, for {@code /v1/separate}.
 *
 * <p>Accepts a 32x32 or 28x28 PNG (28x28 is zero-padded by 2 pixels like the training data); the size is read from
 * the PNG header before anything is decoded. Gray (with or without alpha) is read as stored; colour is converted to
 * luma (0.299 R + 0.587 G + 0.114 B); transparency is composited over black, the mixtures' background.
 */
public final class PngImages {

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private PngImages() {}

  /** Decodes a mixture PNG into 1024 values in [0, 1]. */
  public static float[] readMixture(byte[] png) {
    if (png.length < 33 || !ByteBuffer.wrap(png, 0, 8).equals(ByteBuffer.wrap(SIGNATURE))) {
      throw ServeError.badRequest("body: expected a PNG image (32x32 or 28x28 grayscale), found " + (png.length == 0
          ? "an empty body" : png.length + " bytes that are not a PNG"));
    }
    ByteBuffer header = ByteBuffer.wrap(png, 12, 12);
    byte[] chunk = new byte[4];
    header.get(chunk);
    int w = header.getInt();
    int h = header.getInt();
    if (!new String(chunk, java.nio.charset.StandardCharsets.US_ASCII).equals("IHDR")) {
      throw ServeError.badRequest("body: PNG without an IHDR header chunk");
    }
    if (!((w == 32 && h == 32) || (w == 28 && h == 28))) {
      throw ServeError.badRequest("body: expected a 32x32 or 28x28 PNG, found " + Integer.toUnsignedString(w) + "x"
          + Integer.toUnsignedString(h));
    }
    BufferedImage img;
    try {
      img = ImageIO.read(new ByteArrayInputStream(png));
    } catch (IOException | RuntimeException e) {
      throw ServeError.badRequest("body: unreadable PNG (" + e.getMessage() + ")");
    }
    if (img == null || img.getWidth() != w || img.getHeight() != h) {
      throw ServeError.badRequest("body: unreadable PNG");
    }
    int pad = w == 28 ? 2 : 0;
    float[] values = new float[32 * 32];
    Raster raster = img.getRaster();
    int bands = raster.getNumBands();
    boolean gray = !(img.getColorModel() instanceof IndexColorModel) && bands <= 2;
    int max = (1 << img.getColorModel().getComponentSize(0)) - 1;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double v;
        if (gray) {
          v = raster.getSample(x, y, 0) / (double) max;
          if (bands == 2) {
            v *= raster.getSample(x, y, 1) / (double) max;
          }
        } else {
          int argb = img.getRGB(x, y);
          double luma = (0.299 * ((argb >> 16) & 0xFF) + 0.587 * ((argb >> 8) & 0xFF) + 0.114 * (argb & 0xFF)) / 255.0;
          v = luma * (((argb >>> 24) & 0xFF) / 255.0);
        }
        values[(y + pad) * 32 + x + pad] = (float) v;
      }
    }
    return values;
  }

  /** Encodes 1024 values (clipped to [0, 1]) from {@code offset} as an 8-bit gray 32x32 PNG. */
  public static byte[] writeGray(float[] data, int offset) {
    BufferedImage img = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 32; y++) {
      for (int x = 0; x < 32; x++) {
        float v = data[offset + y * 32 + x];
        img.getRaster().setSample(x, y, 0, Math.round(Math.max(0f, Math.min(1f, Float.isNaN(v) ? 0f : v)) * 255f));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
