package dev.bss.interop.numpy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.Weight;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzTest {

  @TempDir
  Path dir;

  @Test
  void readsCompressedArchiveMadeByNumpy() {
    // Made by make_fixtures.py with np.savez_compressed (deflated members), like Keras's mnist.npz.
    Path file = NpyTest.resource("real_compressed.npz");
    assertEquals(List.of("x_train", "y_train", "w"), Npz.keys(file));
    NpyArray x = Npz.read(file, "x_train");
    assertArrayEquals(new long[] {3, 28, 28}, x.shape());
    byte[] pixels = x.uint8();
    assertEquals(3 * 28 * 28, pixels.length);
    for (int i = 0; i < pixels.length; i++) {
      assertEquals(i % 256, pixels[i] & 0xFF);
    }
    assertArrayEquals(new long[] {7, 0, 255}, Npz.read(file, "y_train").toLongs());
    Map<String, Weight> all = Npz.readFloats(file);
    assertEquals(List.of("x_train", "y_train", "w"), List.copyOf(all.keySet()));
    assertArrayEquals(new float[] {-0.5f, (float) (1 / 3.0 - 0.5), (float) (2 / 3.0 - 0.5), 0.5f,
        (float) (4 / 3.0 - 0.5), (float) (5 / 3.0 - 0.5)}, all.get("w").data());
  }

  @Test
  void readsStoredArchiveWithScalar() {
    Map<String, Weight> all = Npz.readFloats(NpyTest.resource("real_stored.npz"));
    assertArrayEquals(new long[] {2, 3, 4}, all.get("f").shape());
    assertEquals(5 * 0.25f - 1f, all.get("f").data()[5]);
    assertArrayEquals(new long[] {}, all.get("scalar").shape());
    assertArrayEquals(new float[] {3.5f}, all.get("scalar").data());
  }

  @Test
  void writeThenReadKeepsOrderAndValuesAtomically() throws IOException {
    Map<String, Weight> weights = new LinkedHashMap<>();
    weights.put("conv2d/kernel", new Weight(new long[] {1, 1, 1, 2}, new float[] {0.5f, -1}));
    weights.put("pos_embedding", new Weight(new long[] {1, 2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
    weights.put("a", new Weight(new long[] {0}, new float[0]));
    Path file = dir.resolve("sub/weights.npz");
    Npz.writeFloats(file, weights);
    Map<String, Weight> back = Npz.readFloats(file);
    assertEquals(List.copyOf(weights.keySet()), List.copyOf(back.keySet()));
    assertEquals(weights, back);
    try (Stream<Path> files = Files.list(file.getParent())) {
      assertEquals(List.of(file), files.toList(), "no temporary file left");
    }
  }

  @Test
  void rawArraysKeepTheirDtype() {
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    arrays.put("x_train", new NpyArray("x", "|u1", new long[] {2, 2}, new byte[] {0, 1, (byte) 254, (byte) 255}));
    arrays.put("y_train", new NpyArray("y", "<i8", new long[] {1}, new byte[] {9, 0, 0, 0, 0, 0, 0, 0}));
    Path file = dir.resolve("mnist.npz");
    Npz.write(file, arrays);
    Map<String, NpyArray> back = Npz.read(file);
    assertEquals(arrays, back);
    assertEquals("|u1", back.get("x_train").dtype());
    assertArrayEquals(new long[] {9}, back.get("y_train").toLongs());
    Path single = dir.resolve("x.npy");
    Npy.write(single, arrays.get("x_train"));
    assertEquals(arrays.get("x_train"), Npy.read(single));
  }

  @Test
  void badArchivesGiveOneLineNamingTheFile() throws IOException {
    Path notZip = dir.resolve("not.npz");
    Files.writeString(notZip, "hello");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npz.readFloats(notZip));
    assertTrue(e.getMessage().startsWith(notZip + ": not a NumPy .npz (zip) archive"), e.getMessage());

    Path missing = dir.resolve("missing.npz");
    e = assertThrows(IllegalArgumentException.class, () -> Npz.readFloats(missing));
    assertEquals(missing + ": file not found", e.getMessage());

    Path real = NpyTest.resource("real_stored.npz");
    e = assertThrows(IllegalArgumentException.class, () -> Npz.read(real, "x_test"));
    assertEquals(real + ": no array 'x_test' (found [f, scalar])", e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> Npz.read(real, "f").uint8());
    assertTrue(e.getMessage().contains("[f.npy]: expected dtype uint8 (|u1), found <f4"), e.getMessage());
  }
}
