package dev.bss.train.cli;

import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.loop.CheckpointScan;
import dev.bss.train.loop.RunLock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bss train} against what a careless or concurrent user does: a second run on a busy folder, a resume with
 * changed settings, a damaged newest checkpoint, out-of-range options (temporaries of a killed write: TrainingTest). Each case
 * checks the exit code, the one-line message and that nothing was lost or left behind. One tiny 2-epoch run is made
 * once and copied for each case.
 */
class TrainHardeningTest {

  @TempDir static Path shared;
  private static Path run;
  private static double runSeconds;

  private static final String[] TINY = {"--config", "tiny", "--epochs", "2", "--steps-per-epoch", "2",
      "--batch-size", "4", "--samples", "0", "--eval-draws", "0", "--device", "cpu", "--threads", "2", "--data",
      "embedded"};

  private static String[] with(String[] base, String... more) {
    List<String> all = new ArrayList<>(List.of(base));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  /** Every file under {@code dir} with the SHA-256 of its bytes. */
  static Map<String, String> snapshot(Path dir) {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        files.put(dir.relativize(p).toString(), HexFormat.of().formatHex(
            MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return files;
  }

  static List<String> names(Path dir) {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path copyOfRun(Path tmp) throws IOException {
    Path copy = tmp.resolve("run");
    try (Stream<Path> walk = Files.walk(run)) {
      for (Path p : walk.toList()) {
        Path target = copy.resolve(run.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return copy;
  }

  /** The one line of a user error; asserts there is exactly one. */
  private static String oneLine(BssRun r) {
    assertEquals(2, r.exit(), r.out() + r.err());
    List<String> lines = r.err().lines().toList();
    assertEquals(1, lines.size(), r.err());
    return lines.get(0);
  }

  @BeforeAll
  static void trainOnce() {
    run = shared.resolve("run");
    BssRun r = bss(train(with(TINY, "--out", run.toString())));
    assertEquals(0, r.exit(), r.out() + r.err());
    runSeconds = r.seconds();
  }

  private static String[] train(String... more) {
    List<String> all = new ArrayList<>(List.of("train"));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void theRunRecordsItsCommandLineOnce() throws Exception {
    Map<?, ?> json = new Gson().fromJson(Files.readString(run.resolve("run.json")), Map.class);
    List<?> commandLine = (List<?>) json.get("command_line");
    assertEquals(List.of("bss", "train", "--config", "tiny"), commandLine.subList(0, 4), commandLine.toString());
    assertFalse(names(run).contains(RunLock.FILE), "the lock outlived the run");
  }

  @Test
  void aSecondRunOnABusyFolderIsRefusedAndTouchesNothing(@TempDir Path tmp) throws Exception {
    Path copy = copyOfRun(tmp);
    Map<String, String> before = snapshot(copy);
    Path fresh = tmp.resolve("fresh");
    Files.createDirectories(fresh);
    long self = ProcessHandle.current().pid();
    try (RunLock held = RunLock.acquire(copy, n -> { }); RunLock held2 = RunLock.acquire(fresh, n -> { })) {
      String line = oneLine(bss(train(with(TINY, "--out", copy.toString(), "--resume"))));
      assertEquals("bss train: --out " + copy + ": another bss train (pid " + self + ") is using this folder (lock "
          + RunLock.FILE + "); wait for it to end or choose another --out", line);
      line = oneLine(bss(train(with(TINY, "--out", fresh.toString()))));
      assertTrue(line.contains("--out " + fresh + ": another bss train (pid " + self + ")"), line);
      assertEquals(List.of(RunLock.FILE), names(fresh));
    }
    Map<String, String> after = snapshot(copy);
    assertEquals(before, after, "a refused run changed the folder of the running one");
    assertEquals(List.of(), names(fresh));
  }

  @Test
  void aResumeWithChangedSettingsIsRefusedBeforeTheGraphIsBuilt(@TempDir Path tmp) throws Exception {
    Path copy = copyOfRun(tmp);
    Map<String, String> before = snapshot(copy);
    Path checkpoint = copy.resolve("checkpoints").resolve("epoch-0002");

    BssRun r = bss("train", "--resume", "--out", copy.toString(), "--config", "tiny", "--epochs", "2",
        "--batch-size", "8", "--seed", "3", "--data", "embedded", "--threads", "2");
    String line = oneLine(r);
    assertEquals("bss train: --resume: " + checkpoint + " was made with --seed 1 (given 3), --batch-size 4 (given 8);"
        + " a resumed run must keep these to end as an uninterrupted run would (leave them out to use the "
        + "checkpoint's)", line);
    // Refused before the graph build: the line printed once the graph exists never came, and it took a fraction of
    // the whole run (graph build, 2 epochs, export).
    assertFalse(r.out().contains("parameters:"), r.out());
    System.out.printf("refused in %.2f s; the original run took %.1f s%n", r.seconds(), runSeconds);
    assertTrue(r.seconds() < runSeconds, r.seconds() + " s");

    line = oneLine(bss("train", "--resume", "--out", copy.toString(), "--config", "seed"));
    assertTrue(line.contains("--config filters=[8, 16, 32]") && line.contains("(given filters=[32, 64, 128]"),
        line);
    line = oneLine(bss("train", "--resume", "--out", copy.toString(), "--lr", "0.01", "--patience", "2"));
    assertTrue(line.contains("--lr 0.001 (given 0.01), --patience 5 (given 2)"), line);
    line = oneLine(bss("train", "--resume", "--out", copy.toString(), "--epochs", "1", "--validate", "10"));
    assertTrue(line.contains("--validate 0 (given 10), --epochs 1 (it has done 2 epochs)"), line);
    line = oneLine(bss("train", "--resume", "--out", copy.toString(), "--steps-per-epoch", "3"));
    assertTrue(line.contains("--steps-per-epoch 2 (given 3)"), line);

    assertEquals(before, snapshot(copy), "a refused resume changed the run");
  }

  @Test
  @Tag("slow")
  void aDamagedNewestCheckpointFallsBackToTheNewestIntactOne(@TempDir Path tmp) throws Exception {
    Path copy = copyOfRun(tmp);
    Path checkpoints = copy.resolve("checkpoints");
    Path newest = checkpoints.resolve("epoch-0002");
    CheckpointScan.Loaded intact = CheckpointScan.load(newest);
    // The weights cut short, as a full disk or a failing copy leaves them.
    byte[] bytes = Files.readAllBytes(newest.resolve(Checkpoint.WEIGHTS));
    Files.write(newest.resolve(Checkpoint.WEIGHTS), java.util.Arrays.copyOf(bytes, bytes.length / 2));

    // Nothing given but --resume and --out: every setting comes from the checkpoint.
    BssRun r = bss("train", "--resume", "--out", copy.toString());
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("notice: passing over a damaged checkpoint: " + newest + " (")
        && r.out().contains("; resuming from epoch-0001"), r.out());
    assertTrue(r.out().contains("lr 0.001 (from epoch-0001; initial 0.001)"), r.out());
    // Epoch 2 was trained again, exactly as before: the rewritten checkpoint is the lost one, bit for bit.
    CheckpointScan.Loaded again = CheckpointScan.load(newest);
    assertEquals(intact.weights().asMap(), again.weights().asMap());
    assertEquals(intact.optimizer(), again.optimizer());
    assertEquals(intact.state().history(), again.state().history());
    assertEquals(List.of("best", "epoch-0001", "epoch-0002"), names(checkpoints));

    // With every checkpoint damaged there is nothing to resume: one line naming each.
    Files.writeString(newest.resolve(Checkpoint.STATE), "{");
    Files.delete(checkpoints.resolve("epoch-0001").resolve(Checkpoint.OPTIMIZER));
    Map<String, String> before = snapshot(copy);
    String line = oneLine(bss("train", "--resume", "--out", copy.toString()));
    assertTrue(line.startsWith("bss train: --resume: no intact checkpoint under " + checkpoints + ": "
        + newest + " (") && line.contains(checkpoints.resolve("epoch-0001") + " ("), line);
    assertEquals(before, snapshot(copy));
  }

  @Test
  void outOfRangeOptionsAreRefusedUpFrontNamingTheOption(@TempDir Path tmp) {
    Path out = tmp.resolve("never");
    String[][] cases = {
      {"--eval-samples", "0", "--eval-samples: expected 1 to 100000, found 0"},
      {"--validate", "-5", "--validate: expected 0 to 100000, found -5"},
      {"--validate", "many", "--validate: expected a count of test pairs (0 to 100000), found 'many'"},
      {"--batch-size", "3000000", "--batch-size: expected 1 to 65536, found 3000000"},
      {"--steps-per-epoch", "2000000000", "--steps-per-epoch: expected 1 to 16777216, found 2000000000"},
      {"--epochs", "2000000000", "--epochs: expected 1 to 100000, found 2000000000"},
      {"--epochs", "100000", "--epochs x --steps-per-epoch: expected at most 16777216 steps (Keras's float32 step "
          + "count), found 100000 x 1000"},
      {"--samples", "2000000000", "--samples: expected 0 to 256, found 2000000000"},
      {"--eval-draws", "-1", "--eval-draws: expected 0 to 1000, found -1"},
      {"--patience", "-1", "--patience: expected 0 to 100000, found -1"},
      {"--threads", "0", "--threads: expected 1 to 1024, found 0"},
      {"--threads", "100000", "--threads: expected 1 to 1024, found 100000"},
    };
    for (String[] c : cases) {
      List<String> args = new ArrayList<>(List.of("train", "--config", "tiny", "--data", "embedded", "--out",
          out.toString()));
      if (c[0].equals("--epochs") && c[1].equals("100000")) {
        args.addAll(List.of("--steps-per-epoch", "1000"));
      }
      args.addAll(List.of(c[0], c[1]));
      BssRun r = bss(args.toArray(String[]::new));
      assertEquals("bss train: " + c[2], oneLine(r));
      assertEquals("", r.out(), "work started before the options were checked");
      assertFalse(Files.exists(out), "created " + out);
    }
    // The same --threads rule for evaluate.
    BssRun r = bss("evaluate", "--model", run.toString(), "--threads", "0");
    assertEquals("bss evaluate: --threads: expected 1 to 1024, found 0", oneLine(r));
  }
}
