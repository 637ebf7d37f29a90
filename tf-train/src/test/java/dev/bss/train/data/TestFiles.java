package dev.bss.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Paths and small builders shared by the data tests. */
final class TestFiles {

  private TestFiles() {}

  /** The official data folder {@code ../shared/data}, or a skipped test saying it is missing. */
  static Path sharedData() {
    Path dir = Path.of(System.getProperty("bss.shared", "../../shared"), "data");
    assumeTrue(Files.isRegularFile(dir.resolve("mnist/train-images-idx3-ubyte.gz"))
        && Files.isRegularFile(dir.resolve("fashion-mnist/train-images-idx3-ubyte.gz")),
        "needs the official MNIST/Fashion-MNIST IDX files at " + dir + " (../shared/data)");
    return dir;
  }

  /** The repository's {@code test-data/embedded} folder (always present in a checkout). */
  static Path embeddedDir() {
    Path dir = Path.of(System.getProperty("bss.root", "../"), "test-data", "embedded");
    assertTrue(Files.isDirectory(dir), "test-data/embedded missing at " + dir.toAbsolutePath());
    return dir;
  }

  static Path resource(String name) {
    try {
      return Path.of(TestFiles.class.getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A gzip-compressed IDX image file body: the given header ints (big-endian) followed by {@code data}. */
  static byte[] idx(int[] header, byte[] data) {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    for (int v : header) {
      raw.write(v >>> 24);
      raw.write(v >>> 16);
      raw.write(v >>> 8);
      raw.write(v);
    }
    raw.writeBytes(data);
    return gzip(raw.toByteArray());
  }

  static byte[] gzip(byte[] plain) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(plain);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Asserts a one-line message that starts with the file name and contains {@code part}. */
  static void assertOneLine(String message, Path file, String part) {
    assertTrue(message.startsWith(file.toString()), "names the file first: " + message);
    assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
    assertEquals(1, message.lines().count(), "one line: " + message);
  }
}
