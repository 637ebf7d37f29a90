package dev.bss.interop;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** Writes files and directories under a temporary name in the same folder, then renames: no half-written output. */
public final class AtomicFiles {

  /** Writes into a temporary path that becomes the target on success. */
  @FunctionalInterface
  public interface Writer {
    void write(Path temporary) throws IOException;
  }

  /** Writes the body of a file to a buffered stream on its temporary name. */
  @FunctionalInterface
  public interface StreamWriter {
    void write(OutputStream out) throws IOException;
  }

  private AtomicFiles() {}

  /**
   * Writes one file atomically through a buffered stream.
   *
   * @throws UncheckedIOException naming the file when it cannot be written (nothing is left behind)
   */
  public static void writeStream(Path target, StreamWriter writer) {
    try {
      write(target, tmp -> {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
          writer.write(out);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(target + ": cannot write: " + e.getMessage(), e);
    }
  }

  /** Writes UTF-8 text to a file atomically; UncheckedIOException naming the file on failure. */
  public static void writeString(Path target, String text) {
    writeStream(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** Writes one file atomically (replacing an existing file). */
  public static void write(Path target, Writer writer) throws IOException {
    Path parent = parentOf(target);
    Files.createDirectories(parent);
    Path tmp = Files.createTempFile(parent, "." + target.getFileName() + ".", ".tmp");
    try {
      writer.write(tmp);
      move(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Writes a directory atomically: {@code writer} fills a fresh temporary directory, which then replaces
   * {@code target} (an existing target directory is removed only after the new one is complete).
   */
  public static void writeDirectory(Path target, Writer writer) throws IOException {
    Path parent = parentOf(target);
    Files.createDirectories(parent);
    if (Files.exists(target) && !Files.isDirectory(target)) {
      throw new IllegalArgumentException("output " + target + ": exists and is not a directory");
    }
    Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".");
    Path old = null;
    try {
      writer.write(tmp);
      if (Files.exists(target)) {
        old = Files.createTempDirectory(parent, "." + target.getFileName() + ".old.");
        Files.delete(old);
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      tmp = null;
    } finally {
      if (tmp != null) {
        deleteRecursively(tmp);
      }
      if (old != null) {
        deleteRecursively(old);
      }
    }
  }

  /** Deletes a file or directory tree if it exists. */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Renames {@code from} onto {@code to}, atomically where the file system can. */
  public static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException | DirectoryNotEmptyException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static Path parentOf(Path target) {
    Path parent = target.toAbsolutePath().getParent();
    return parent == null ? Path.of(".").toAbsolutePath() : parent;
  }
}
