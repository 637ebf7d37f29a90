package dev.bss.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ImageSetTest {

  @Test
  void padsTwoPixelsOfZerosOnEverySide() {
    byte[] raw = new byte[2 * 784];
    for (int i = 0; i < raw.length; i++) {
      raw[i] = (byte) (1 + i % 250);
    }
    ImageSet set = ImageSet.fromRaw("test", raw, new byte[] {3, 4});
    assertEquals(2, set.size());
    assertEquals(4, set.label(1));
    for (int image = 0; image < 2; image++) {
      for (int row = 0; row < 32; row++) {
        for (int col = 0; col < 32; col++) {
          boolean inside = row >= 2 && row < 30 && col >= 2 && col < 30;
          int expected = inside ? raw[image * 784 + (row - 2) * 28 + (col - 2)] & 0xFF : 0;
          assertEquals(expected, set.pixel(image, row, col), "image " + image + " at " + row + "," + col);
        }
      }
    }
  }

  @Test
  void dividesBy255AsFloat32WithChannelLast() {
    byte[] raw = new byte[784];
    for (int v = 0; v < 256; v++) {
      raw[v] = (byte) v;
    }
    ImageSet set = ImageSet.fromRaw("ramp", raw, new byte[] {0});
    float[] floats = set.toFloats(0, 1);
    assertEquals(32 * 32, floats.length);
    for (int v = 0; v < 256; v++) {
      int row = 2 + v / 28;
      int col = 2 + v % 28;
      // v / 255 in float32 (equal to float64 rounded once for every uint8 value, checked with NumPy).
      assertEquals(v / 255f, floats[row * 32 + col], 0f, "value " + v);
    }
    assertEquals(0f, floats[0]);
    assertEquals(1f, ImageSet.scaled(255));
  }

  @Test
  void preprocessedMnistTestSetMatchesNumpy() {
    // NumPy 2.4.6: p = (np.pad(x, ((0,0),(2,2),(2,2))).astype('float32') / 255.0)[..., None] on the official
    // t10k images (test-data/embedded holds them unchanged); p.shape == (10000, 32, 32, 1),
    // p.astype(np.float64).sum() == 1038914.5186372381 and p[0].astype(np.float64).sum() == 72.36862819222733.
    Path dir = TestFiles.embeddedDir().resolve("mnist");
    ImageSet test = ImageSet.fromRaw("mnist test", Idx.readImages(dir.resolve("t10k-images-idx3-ubyte.gz")),
        Idx.readLabels(dir.resolve("t10k-labels-idx1-ubyte.gz")));
    float[] all = test.toFloats(0, test.size());
    assertEquals(10000 * 1024, all.length);
    double sum = 0;
    double first = 0;
    for (int i = 0; i < all.length; i++) {
      assertTrue(all[i] >= 0f && all[i] <= 1f);
      sum += all[i];
      if (i < 1024) {
        first += all[i];
      }
    }
    assertEquals(1038914.5186372381, sum, 1e-6);
    assertEquals(72.36862819222733, first, 1e-9);
    assertEquals(7, test.label(0));
  }

  @Test
  void rejectsMismatchedLabelsAndSizes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ImageSet.fromRaw("x", new byte[784], new byte[2]));
    assertEquals("x: 1 images but 2 labels", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ImageSet.fromRaw("x", new byte[700], new byte[1]));
    assertEquals("x: expected a multiple of 784 pixels (28x28 images), found 700", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ImageSet.fromRaw("x", new byte[784], new byte[] {10}));
    assertEquals("x: expected labels 0-9, found 10 at index 0", e.getMessage());
  }

  @Test
  void headKeepsTheFirstImages() {
    byte[] raw = new byte[3 * 784];
    raw[2 * 784] = 9;
    ImageSet set = ImageSet.fromRaw("s", raw, new byte[] {1, 2, 3});
    assertEquals(2, set.head(2).size());
    assertEquals(0, set.head(2).pixelSum());
    assertEquals(9, set.pixelSum());
  }
}
