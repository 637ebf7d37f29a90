package dev.bss.interop.numpy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bss.model.Weight;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

  @TempDir
  Path dir;

  static Path resource(String name) {
    try {
      return Path.of(NpyTest.class.getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void readsKerasFixtureWrittenByNumpy() {
    Path inputs = Path.of(System.getProperty("bss.shared", "../../shared"), "keras-reference/tiny/inputs.npy");
    assumeTrue(Files.isRegularFile(inputs), "needs the Keras fixtures at " + inputs + " (../shared)");
    Weight w = Npy.readFloats(inputs);
    assertArrayEquals(new long[] {16, 32, 32, 1}, w.shape());
    // Expected values from python3/numpy 2.4.6: a.astype(np.float64).sum() and a[0, 16, 16, 0].
    double sum = 0;
    for (float v : w.data()) {
      sum += v;
    }
    assertEquals(2303.356892237207, sum, 1e-6);
    assertEquals(0.105882354f, w.data()[16 * 32 + 16]);
  }

  @Test
  void readsFormatVersionsTwoAndThreeAndFloat64() {
    float[] expected = new float[24];
    for (int i = 0; i < 24; i++) {
      expected[i] = i * 0.25f - 1f;
    }
    for (String name : new String[] {"real_v2.npy", "real_v3.npy"}) {
      Weight w = Npy.readFloats(resource(name));
      assertArrayEquals(new long[] {2, 3, 4}, w.shape(), name);
      assertArrayEquals(expected, w.data(), name);
    }
    Weight f8 = Npy.readFloats(resource("real_f8.npy"));
    assertArrayEquals(new long[] {2, 3}, f8.shape());
    for (int i = 0; i < 6; i++) {
      assertEquals((float) (i / 3.0 - 0.5), f8.data()[i]);
    }
  }

  @Test
  void writeThenReadRoundTripsWithAlignedHeaderAndNoTempFiles() throws IOException {
    Weight w = new Weight(new long[] {3, 1, 5}, new float[] {1, -2, 3.5f, Float.MIN_VALUE, 1e30f, 0, 0, 0, 0, 0, 7,
        8, 9, 10, -0f});
    Path file = dir.resolve("w.npy");
    Npy.writeFloats(file, w);
    Npy.writeFloats(file, w); // overwriting an existing file is fine
    assertEquals(w, Npy.readFloats(file));
    byte[] bytes = Files.readAllBytes(file);
    int headerLength = (bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8;
    assertEquals(0, (10 + headerLength) % 64, "data starts on a 64-byte boundary like NumPy's");
    String header = new String(bytes, 10, headerLength, StandardCharsets.US_ASCII);
    assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 5), }"), header);
    assertTrue(header.endsWith("\n"));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count(), "only the written file, no temporary left over");
    }
    Path one = dir.resolve("one.npy");
    Npy.writeFloats(one, new Weight(new long[] {2}, new float[] {1, 2}));
    assertTrue(new String(Files.readAllBytes(one), StandardCharsets.US_ASCII).contains("'shape': (2,), }"));
    Path scalar = dir.resolve("scalar.npy");
    Npy.writeFloats(scalar, new Weight(new long[] {}, new float[] {4}));
    assertEquals(new Weight(new long[] {}, new float[] {4}), Npy.readFloats(scalar));
  }

  @Test
  void readsUint8AndIntegerLabels() throws IOException {
    Path u8 = write("u8.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", new byte[] {0, 1,
        (byte) 200, (byte) 255});
    NpyArray raw = Npy.read(u8);
    assertEquals("|u1", raw.dtype());
    assertArrayEquals(new byte[] {0, 1, (byte) 200, (byte) 255}, raw.uint8());
    assertArrayEquals(new float[] {0, 1, 200, 255}, Npy.readFloats(u8).data());
    byte[] longs = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(9).putLong(-3).array();
    Path i8 = write("i8.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", longs);
    assertArrayEquals(new long[] {9, -3}, Npy.read(i8).toLongs());
    assertArrayEquals(new float[] {9, -3}, Npy.readFloats(i8).data());
  }

  @Test
  void badFilesGiveOneLineNamingFileExpectedAndFound() throws IOException {
    byte[] four = new byte[16];
    String ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    assertBad(write("fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four),
        "expected fortran_order False (C order), found true");
    assertBad(write("bigendian.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", four),
        "unsupported dtype '>f4' (expected one of <f4, <f8, |u1");
    assertBad(write("complex.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", four),
        "unsupported dtype '<c8'");
    assertBad(write("structured.npy", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", four),
        "unsupported dtype [('a', '<f4')]");
    assertBad(write("nokey.npy", "{'descr': '<f4', 'shape': (2, 2), }", four),
        "header keys must be descr, fortran_order, shape; found [descr, shape]");
    assertBad(write("extrakey.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1, }", four),
        "header keys must be descr, fortran_order, shape");
    assertBad(write("truncated.npy", ok, new byte[15]), "truncated data: shape [2, 2] <f4 needs 16 bytes, found 15");
    assertBad(write("trailing.npy", ok, new byte[20]), "trailing data: shape [2, 2] <f4 needs 16 bytes, found 20");
    assertBad(write("malformed.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", four),
        "malformed .npy header: expected a non-negative integer in the shape");
    assertBad(write("noshape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': 4, }", four),
        "expected shape to be a tuple of integers, found 4");

    Path magic = dir.resolve("magic.npy");
    Files.write(magic, "PK\3\4 not numpy".getBytes(StandardCharsets.US_ASCII));
    assertBad(magic, "not a NumPy .npy file (expected magic \\x93NUMPY, found PK\\x03\\x04 n)");
    Path empty = dir.resolve("empty.npy");
    Files.write(empty, new byte[0]);
    assertBad(empty, "found an empty file");
    byte[] v4 = Files.readAllBytes(write("v4.npy", ok, four));
    v4[6] = 4;
    Path version = dir.resolve("version.npy");
    Files.write(version, v4);
    assertBad(version, "unsupported .npy format version 4.0 (expected 1.0, 2.0 or 3.0)");
    byte[] shortHeader = java.util.Arrays.copyOf(v4, 20);
    shortHeader[6] = 1;
    Path cut = dir.resolve("cut.npy");
    Files.write(cut, shortHeader);
    assertBad(cut, "truncated .npy header");
    assertBad(dir.resolve("missing.npy"), "file not found");
  }

  private void assertBad(Path file, String expectedPart) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.readFloats(file));
    String msg = e.getMessage();
    assertTrue(msg.startsWith(file.toString() + ": "), "names the file: " + msg);
    assertTrue(msg.contains(expectedPart), "expected '" + expectedPart + "' in: " + msg);
    assertEquals(1, msg.lines().count(), "one line: " + msg);
  }

  private Path write(String name, String dict, byte[] data) throws IOException {
    String header = dict + " ".repeat(3) + "\n";
    byte[] text = header.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(10 + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length).put(text).put(data);
    Path file = dir.resolve(name);
    Files.write(file, b.array());
    return file;
  }
}
