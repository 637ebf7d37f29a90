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
import java.security.SecureRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writes files and directories under a temporary name in the same folder, then renames: no half-written output.
 *
 * <p>Temporary names are {@code .<target>.<pid>-<random>.tmp} (and {@code .old} for a replaced directory); they are
 * created with {@link Files#createFile} / {@link Files#createDirectory}, so outputs get the permissions of the umask
 * like any other file (not the 0600/0700 of {@code Files.createTemp*}). A write killed half-way leaves such a name
 * behind; the next successful write of the same target removes every one whose process is gone.
 */
public final class AtomicFiles {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final long PID = ProcessHandle.current().pid();

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
    Path tmp = Files.createFile(temporaryName(parent, target, "tmp"));
    try {
      writer.write(tmp);
      move(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
    removeOrphans(parent, target);
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
    Path tmp = Files.createDirectory(temporaryName(parent, target, "tmp"));
    Path old = null;
    try {
      writer.write(tmp);
      if (Files.exists(target)) {
        old = temporaryName(parent, target, "old");
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
    removeOrphans(parent, target);
  }

  /**
   * A fresh temporary directory for {@code target}, in its folder and named like {@link #writeDirectory}'s (so an
   * orphan is cleaned up by the next write of that target); the caller moves its contents and deletes it.
   */
  public static Path createTemporaryDirectory(Path target) throws IOException {
    Path parent = parentOf(target);
    Files.createDirectories(parent);
    return Files.createDirectory(temporaryName(parent, target, "tmp"));
  }

  /** {@code .<name>.<pid>-<random>.<kind>} next to the target. */
  private static Path temporaryName(Path parent, Path target, String kind) {
    return parent.resolve("." + target.getFileName() + "." + PID + "-" + Long.toUnsignedString(RANDOM.nextLong(), 36)
        + "." + kind);
  }

  /**
   * Deletes the temporary files and folders of earlier writes of {@code target} whose process has ended (a killed
   * write); those of live processes (a concurrent writer) are left alone.
   */
  public static void removeOrphans(Path parent, Path target) {
    Pattern orphan = Pattern.compile(Pattern.quote("." + target.getFileName() + ".") + "(\\d+)-[0-9a-z]+\\.(tmp|old)");
    try (Stream<Path> siblings = Files.list(parent)) {
      for (Path p : siblings.toList()) {
        Matcher m = orphan.matcher(p.getFileName().toString());
        if (m.matches()) {
          long pid = Long.parseLong(m.group(1));
          if (pid != PID && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            continue;
          }
          if (pid == PID && m.group(2).equals("tmp")) {
            continue; // another thread of this process may be writing it
          }
          deleteRecursively(p);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Best effort: a leftover we cannot remove must not fail a write that succeeded.
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
