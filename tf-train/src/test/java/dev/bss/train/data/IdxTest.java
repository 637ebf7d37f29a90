package dev.bss.train.data;

import static dev.bss.train.data.TestFiles.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {

  @TempDir
  Path dir;

  /**
   * Known values of the official files, computed once with python3/NumPy 2.4.6:
   * {@code x = np.frombuffer(gzip.open(f).read(), np.uint8, offset=16).reshape(-1, 28, 28)} (offset=8 for labels),
   * then {@code int(x.astype(np.int64).sum())}, and the same for {@code x[0]} and {@code x[-1]}.
   * Columns: file, count, pixel sum, first image sum, last image sum, label sum.
   */
  private static final Object[][] OFFICIAL = {
      {"mnist/train", 60000, 1567298545L, 27525L, 20920L, 267236L},
      {"mnist/t10k", 10000, 264923200L, 18454L, 41833L, 44434L},
      {"fashion-mnist/train", 60000, 3431114169L, 76247L, 16684L, 270000L},
      {"fashion-mnist/t10k", 10000, 573469082L, 33456L, 24390L, 45000L},
  };

  @Test
  void officialFilesHaveTheKnownPixelAndLabelSums() {
    Path data = TestFiles.sharedData();
    for (Object[] row : OFFICIAL) {
      String prefix = (String) row[0];
      byte[] images = Idx.readImages(data.resolve(prefix + "-images-idx3-ubyte.gz"));
      byte[] labels = Idx.readLabels(data.resolve(prefix + "-labels-idx1-ubyte.gz"));
      int count = (int) row[1];
      assertEquals(count * 784, images.length, prefix);
      assertEquals(count, labels.length, prefix);
      assertEquals((long) row[2], sum(images, 0, images.length), prefix + " pixel sum");
      assertEquals((long) row[3], sum(images, 0, 784), prefix + " first image");
      assertEquals((long) row[4], sum(images, images.length - 784, images.length), prefix + " last image");
      assertEquals((long) row[5], sum(labels, 0, labels.length), prefix + " label sum");
    }
  }

  @Test
  void firstLabelsAreTheKnownOnes() {
    // The first MNIST training labels are the famous 5 0 4 1 9; Fashion's first are 9 0 0 3 0 (ankle boot...).
    Path embedded = TestFiles.embeddedDir();
    assertArrayEquals(new byte[] {5, 0, 4, 1, 9},
        Arrays.copyOf(Idx.readLabels(embedded.resolve("mnist/train-labels-idx1-ubyte.gz")), 5));
    assertArrayEquals(new byte[] {9, 0, 0, 3, 0},
        Arrays.copyOf(Idx.readLabels(embedded.resolve("fashion-mnist/train-labels-idx1-ubyte.gz")), 5));
  }

  @Test
  void readsASmallHandMadeFile() throws IOException {
    byte[] pixels = new byte[2 * 784];
    pixels[0] = (byte) 255;
    pixels[784 + 783] = 7;
    Path file = write("ok-images.gz", TestFiles.idx(new int[] {2051, 2, 28, 28}, pixels));
    assertArrayEquals(pixels, Idx.readImages(file));
    Path labels = write("ok-labels.gz", TestFiles.idx(new int[] {2049, 3}, new byte[] {1, 2, 9}));
    assertArrayEquals(new byte[] {1, 2, 9}, Idx.readLabels(labels));
  }

  @Test
  void truncatedGzipIsOneLineNamingTheFile() throws IOException {
    byte[] full = TestFiles.idx(new int[] {2051, 3, 28, 28}, randomBytes(3 * 784));
    Path file = write("truncated.gz", Arrays.copyOf(full, full.length / 2));
    assertBad(Idx::readImages, file, "truncated gzip data");
    // Cut only the 8-byte gzip trailer: all pixels inflate, the missing CRC is still noticed.
    Path noTrailer = write("no-trailer.gz", Arrays.copyOf(full, full.length - 8));
    assertBad(Idx::readImages, noTrailer, "truncated gzip data");
    byte[] badCrc = full.clone();
    badCrc[badCrc.length - 6] ^= 0x55;
    assertBad(Idx::readImages, write("bad-crc.gz", badCrc), "not a valid gzip file (Corrupt GZIP trailer)");
  }

  @Test
  void wrongMagicWrongSizeAndWrongCountAreOneLineErrors() throws IOException {
    Path labelsAsImages = write("labels.gz", TestFiles.idx(new int[] {2049, 1}, new byte[] {3}));
    assertBad(Idx::readImages, labelsAsImages, "expected IDX image file magic 2051, found 2049 (a label file)");
    Path imagesAsLabels = write("images.gz", TestFiles.idx(new int[] {2051, 1, 28, 28}, new byte[784]));
    assertBad(Idx::readLabels, imagesAsLabels, "expected IDX label file magic 2049, found 2051 (an image file)");
    Path garbage = write("garbage.gz", TestFiles.idx(new int[] {0x12345678, 1}, new byte[8]));
    assertBad(Idx::readImages, garbage, "expected IDX image file magic 2051, found 305419896");

    Path small = write("27x28.gz", TestFiles.idx(new int[] {2051, 1, 27, 28}, new byte[27 * 28]));
    assertBad(Idx::readImages, small, "expected 28x28 images, found 27x28");
    Path big = write("32x32.gz", TestFiles.idx(new int[] {2051, 1, 32, 32}, new byte[1024]));
    assertBad(Idx::readImages, big, "expected 28x28 images, found 32x32");

    Path short1 = write("short.gz", TestFiles.idx(new int[] {2051, 5, 28, 28}, new byte[4 * 784]));
    assertBad(Idx::readImages, short1, "header says 5 images (3920 bytes), file has only 3136 bytes of data");
    Path shortLabels = write("short-labels.gz", TestFiles.idx(new int[] {2049, 4}, new byte[3]));
    assertBad(Idx::readLabels, shortLabels, "header says 4 labels (4 bytes), file has only 3 bytes of data");
    Path trailing = write("trailing.gz", TestFiles.idx(new int[] {2049, 2}, new byte[3]));
    assertBad(Idx::readLabels, trailing, "trailing data after the 2 labels the header announces");
    // A gzip bomb announcing millions of images is refused from its header, before inflating it.
    Path bomb = write("bomb.gz", TestFiles.idx(new int[] {2051, 3_000_000, 28, 28}, new byte[784]));
    assertBad(Idx::readImages, bomb, "header says 3000000 images, more than the 250000 accepted");
    Path header = write("header.gz", TestFiles.gzip(new byte[] {0, 0, 8, 3, 0, 0}));
    assertBad(Idx::readImages, header, "expected an IDX image file header, found only 6 bytes");
  }

  @Test
  void notGzipEmptyAndMissingFilesAreOneLineErrors() throws IOException {
    Path plain = write("plain.idx", new byte[] {0, 0, 8, 3, 0, 0, 0, 1});
    assertBad(Idx::readImages, plain, "not a valid gzip file (Not in GZIP format)");
    Path empty = write("empty.gz", new byte[0]);
    assertBad(Idx::readImages, empty, "truncated gzip data");
    Path missing = dir.resolve("missing-images.gz");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Idx.readImages(missing));
    assertEquals(missing + ": file not found", e.getMessage());
  }

  private static void assertBad(Function<Path, byte[]> reader, Path file, String part) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> reader.apply(file));
    assertOneLine(e.getMessage(), file, part);
  }

  private Path write(String name, byte[] bytes) throws IOException {
    Path file = dir.resolve(name);
    Files.write(file, bytes);
    return file;
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    new java.util.Random(7).nextBytes(bytes);
    return bytes;
  }

  private static long sum(byte[] values, int from, int to) {
    long sum = 0;
    for (int i = from; i < to; i++) {
      sum += values[i] & 0xFF;
    }
    return sum;
  }
}
