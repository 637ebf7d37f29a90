package dev.bss.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.interop.numpy.NpyArray;
import dev.bss.interop.numpy.Npz;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistNpzTest {

  @TempDir
  Path dir;

  @Test
  void readsAKerasFormatFileMadeByNumpy() {
    // mnist_small.npz: np.savez_compressed of the first 5 train / 3 test items (make_mnist_npz.py next to it);
    // NumPy gave pixel sums 118412 (train) and 57175 (test), labels [5 0 4 1 9] and [7 2 1].
    ImageSet[] sets = MnistNpz.read(TestFiles.resource("mnist_small.npz"));
    assertEquals(5, sets[0].size());
    assertEquals(3, sets[1].size());
    assertEquals(118412, sets[0].pixelSum());
    assertEquals(57175, sets[1].pixelSum());
    assertEquals(9, sets[0].label(4));
    assertEquals(1, sets[1].label(2));
    // Same pixels as the IDX files they were cut from.
    Path mnist = TestFiles.embeddedDir().resolve("mnist");
    ImageSet idx = ImageSet.fromRaw("idx", Idx.readImages(mnist.resolve("train-images-idx3-ubyte.gz")),
        Idx.readLabels(mnist.resolve("train-labels-idx1-ubyte.gz"))).head(5);
    assertEquals(idx.pixelSum(), sets[0].pixelSum());
    for (int p = 0; p < 1024; p++) {
      assertEquals(idx.pixel(4, p / 32, p % 32), sets[0].pixel(4, p / 32, p % 32));
    }
  }

  @Test
  void roundTripsAFileWrittenInKerasLayout() {
    Path file = dir.resolve("mnist.npz");
    byte[] train = new byte[2 * 784];
    train[100] = (byte) 200;
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    arrays.put("x_test", new NpyArray("x_test", "|u1", new long[] {1, 28, 28}, new byte[784]));
    arrays.put("x_train", new NpyArray("x_train", "|u1", new long[] {2, 28, 28}, train));
    arrays.put("y_train", new NpyArray("y_train", "|u1", new long[] {2}, new byte[] {3, 8}));
    arrays.put("y_test", new NpyArray("y_test", "|u1", new long[] {1}, new byte[] {6}));
    Npz.write(file, arrays);
    ImageSet[] sets = MnistNpz.read(file);
    assertEquals(200, sets[0].pixelSum());
    assertEquals(200, sets[0].pixel(0, 2 + 100 / 28, 2 + 100 % 28));
    assertEquals(8, sets[0].label(1));
    assertEquals(6, sets[1].label(0));
  }

  @Test
  void badFilesNameTheFileAndWhatIsWrong() {
    Path missingKey = dir.resolve("missing-key.npz");
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    arrays.put("x_train", new NpyArray("x", "|u1", new long[] {1, 28, 28}, new byte[784]));
    Npz.write(missingKey, arrays);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MnistNpz.read(missingKey));
    assertEquals(missingKey + ": expected arrays x_train, y_train, x_test, y_test; found [x_train]", e.getMessage());

    Path wrongShape = dir.resolve("wrong-shape.npz");
    arrays.put("x_train", new NpyArray("x", "|u1", new long[] {1, 32, 32}, new byte[1024]));
    arrays.put("y_train", new NpyArray("y", "|u1", new long[] {1}, new byte[1]));
    arrays.put("x_test", new NpyArray("x", "|u1", new long[] {1, 28, 28}, new byte[784]));
    arrays.put("y_test", new NpyArray("y", "|u1", new long[] {1}, new byte[1]));
    Npz.write(wrongShape, arrays);
    e = assertThrows(IllegalArgumentException.class, () -> MnistNpz.read(wrongShape));
    assertEquals(wrongShape + ": expected x_train of shape (N, 28, 28), found [1, 32, 32]", e.getMessage());

    Path missing = dir.resolve("nothing.npz");
    e = assertThrows(IllegalArgumentException.class, () -> MnistNpz.read(missing));
    assertTrue(e.getMessage().startsWith(missing + ": file not found"), e.getMessage());
  }
}
