package dev.bss.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output-folder lock of a training run: excludes this JVM and others, and outlives no run. */
class RunLockTest {

  /** Holds the lock of {@code args[0]} until its standard input closes (the other JVM of the test). */
  public static void main(String[] args) throws Exception {
    try (RunLock lock = RunLock.acquire(Path.of(args[0]), n -> { })) {
      System.out.println("locked " + ProcessHandle.current().pid());
      System.out.flush();
      while (System.in.read() >= 0) {
        // hold
      }
    }
  }

  private static List<String> names(Path dir) throws Exception {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void secondLockInThisProcessIsRefusedAndReleaseLeavesNothing(@TempDir Path dir) throws Exception {
    long self = ProcessHandle.current().pid();
    List<String> notices = new ArrayList<>();
    try (RunLock first = RunLock.acquire(dir, notices::add)) {
      assertEquals(List.of(RunLock.FILE), names(dir));
      assertTrue(Files.readString(first.file()).startsWith(self + " "));
      var e = assertThrows(IllegalArgumentException.class, () -> RunLock.acquire(dir, notices::add));
      assertEquals("--out " + dir + ": another bss train (pid " + self + ") is using this folder (lock "
          + RunLock.FILE + "); wait for it to end or choose another --out", e.getMessage());
    }
    assertEquals(List.of(), names(dir), "the lock file outlived the run");
    try (RunLock again = RunLock.acquire(dir, notices::add)) {
      assertTrue(Files.exists(again.file()));
    }
    assertEquals(List.of(), notices, "a cleanly released lock is not stale");
  }

  @Test
  void anotherJvmHoldsTheLockUntilItDiesThenItIsTakenOverWithANotice(@TempDir Path dir) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        RunLockTest.class.getName(), dir.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      BufferedReader reader = new BufferedReader(new InputStreamReader(child.getInputStream(),
          StandardCharsets.UTF_8));
      String line = reader.readLine();
      assertEquals("locked " + child.pid(), line);

      var e = assertThrows(IllegalArgumentException.class, () -> RunLock.acquire(dir, n -> { }));
      assertTrue(e.getMessage().startsWith("--out " + dir + ": another bss train (pid " + child.pid() + ")"),
          e.getMessage());
      assertEquals(List.of(RunLock.FILE), names(dir));

      // kill -9: the system drops the lock, the file with the dead pid stays behind.
      child.destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      assertTrue(Files.readString(dir.resolve(RunLock.FILE)).startsWith(child.pid() + " "));
      List<String> notices = new ArrayList<>();
      try (RunLock taken = RunLock.acquire(dir, notices::add)) {
        assertEquals(1, notices.size(), notices.toString());
        assertTrue(notices.get(0).contains("taking over the stale lock") && notices.get(0).contains("of pid "
            + child.pid()), notices.get(0));
        assertTrue(Files.readString(taken.file()).startsWith(ProcessHandle.current().pid() + " "));
      }
      assertFalse(Files.exists(dir.resolve(RunLock.FILE)));
    } finally {
      child.destroyForcibly();
    }
  }
}
