package dev.bss.train.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The lock a training run holds on its output folder for its whole life, so two runs never write into one folder.
 *
 * <p>The lock is an operating-system lock ({@link FileChannel#tryLock()}) on {@value #FILE} in the folder, which
 * also excludes other JVMs and is released by the system when its owner dies. The file holds the owner's pid (for
 * the message a second run gets) and a nonce: a lock file left behind by a killed run is taken over with a notice.
 * The owner marks the file released and deletes it when it is done (a run that opened it meanwhile sees the mark and
 * locks the file now at the path instead). Where the file system has no locks, the pid alone decides: a lock
 * file whose pid is a live process is respected.
 */
public final class RunLock implements AutoCloseable {

  /** Name of the lock file in the output folder. */
  public static final String FILE = ".bss-train.lock";

  private static final int ATTEMPTS = 5;
  /** What a lock file says once its owner released it (just before deleting it). */
  private static final String RELEASED = "released\n";
  /** Lock files this process holds. */
  private static final Map<Path, Boolean> HELD = new ConcurrentHashMap<>();

  private final Path key;
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private RunLock(Path key, Path file, FileChannel channel, FileLock lock) {
    this.key = key;
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Locks {@code dir} (which must exist) for this process.
   *
   * @param notices receives one line when a stale lock of a dead run is taken over
   * @throws IllegalArgumentException naming the folder and the owner's pid when another run holds it
   */
  public static RunLock acquire(Path dir, Consumer<String> notices) {
    Path file = dir.resolve(FILE);
    String self = Long.toString(ProcessHandle.current().pid());
    Path key;
    try {
      key = dir.toRealPath().resolve(FILE);
    } catch (IOException e) {
      throw new UncheckedIOException("--out " + dir + ": cannot lock " + file + ": " + e.getMessage(), e);
    }
    // POSIX drops every lock a process holds on a file when it closes any descriptor of it: a second channel on a
    // file this process has locked must never be opened (and closed), so this process's locks are known here.
    if (HELD.putIfAbsent(key, Boolean.TRUE) != null) {
      throw busy(dir, file, self);
    }
    boolean locked = false;
    try {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        FileLock lock;
        try {
          lock = channel.tryLock();
        } catch (IOException e) {
          // No locks on this file system: the pid in the file alone marks the folder.
          String owner = owner(read(channel));
          if (!owner.isEmpty() && !owner.equals(self) && alive(owner)) {
            channel.close();
            throw busy(dir, file, owner);
          }
          RunLock claimed = claim(key, file, channel, null, owner, notices);
          locked = true;
          return claimed;
        }
        if (lock == null) {
          String owner = owner(read(channel));
          channel.close();
          throw busy(dir, file, owner.isEmpty() ? "unknown" : owner);
        }
        String previous = read(channel);
        if (previous.equals(RELEASED) && attempt < ATTEMPTS - 1) {
          // Its owner released and deleted it after we opened it: lock the file now at that path.
          lock.release();
          channel.close();
          continue;
        }
        RunLock claimed = claim(key, file, channel, lock, previous.equals(RELEASED) ? "" : owner(previous),
            notices);
        locked = true;
        return claimed;
      }
      throw busy(dir, file, "unknown");
    } catch (IOException e) {
      throw new UncheckedIOException("--out " + dir + ": cannot lock " + file + ": " + e.getMessage(), e);
    } finally {
      if (!locked) {
        HELD.remove(key);
      }
    }
  }

  /** Writes our pid into the locked file (through its own channel only). */
  private static RunLock claim(Path key, Path file, FileChannel channel, FileLock lock, String previous,
      Consumer<String> notices) throws IOException {
    write(channel, ProcessHandle.current().pid() + " " + UUID.randomUUID() + "\n");
    if (!previous.isEmpty()) {
      notices.accept("taking over the stale lock " + file + " of pid " + previous
          + " (that run ended without releasing it)");
    }
    return new RunLock(key, file, channel, lock);
  }

  private static void write(FileChannel channel, String text) throws IOException {
    channel.truncate(0);
    channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)), 0);
    channel.force(false);
  }

  private static IllegalArgumentException busy(Path dir, Path file, String pid) {
    return new IllegalArgumentException("--out " + dir + ": another bss train (pid " + pid + ") is using this "
        + "folder (lock " + file.getFileName() + "); wait for it to end or choose another --out");
  }

  private static String read(FileChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(256);
    channel.read(buffer, 0);
    return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
  }

  /** The pid in a lock file's text, or "" (digits only: the file may hold anything). */
  private static String owner(String text) {
    String first = text.strip().split("\\s+", 2)[0];
    return first.matches("\\d{1,19}") ? first : "";
  }

  private static boolean alive(String pid) {
    try {
      return ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** The lock file. */
  public Path file() {
    return file;
  }

  /** Marks the lock file released, deletes it, then releases the lock. */
  @Override
  public void close() {
    try {
      write(channel, RELEASED);
      Files.deleteIfExists(file);
      if (lock != null) {
        lock.release();
      }
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot release " + file + ": " + e.getMessage(), e);
    } finally {
      HELD.remove(key);
    }
  }
}
