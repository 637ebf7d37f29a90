package dev.bss.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bss train} and {@code bss evaluate} through the real command line (tiny config, a few steps). */
class TrainEvaluateCommandsTest {

  /** Runs the command line in process ({@link BssRun}); returns {exit code, stdout, stderr}. */
  private static Object[] run(String... args) {
    BssRun r = BssRun.bss(args);
    return new Object[] {r.exit(), r.out(), r.err()};
  }

  @Test
  @Tag("slow")
  void trainThenEvaluateTheRunFolder(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Object[] train = run("train", "--config", "tiny", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "4",
        "--samples", "2", "--eval-draws", "1", "--eval-samples", "8", "--device", "cpu", "--threads", "2",
        "--data", "embedded", "--out", out.toString());
    assertEquals(0, train[0], train[1] + "\n" + train[2]);
    assertTrue(((String) train[1]).contains("outputs in " + out.toAbsolutePath()), (String) train[1]);
    assertTrue(Files.isRegularFile(out.resolve("final/weights.npz")));

    Object[] eval = run("evaluate", "--model", out.toString(), "--draws", "2", "--samples", "16", "--json",
        "--device", "cpu", "--threads", "2", "--data", "embedded");
    assertEquals(0, eval[0], eval[1] + "\n" + eval[2]);
    Map<?, ?> json = new Gson().fromJson((String) eval[1], Map.class);
    assertEquals(2.0, json.get("draws"));
    assertTrue(((String) json.get("model_description")).contains(out.resolve("final").toString()), json.toString());
    Map<?, ?> identity = (Map<?, ?>) json.get("identity_baseline");
    assertTrue((Double) identity.get("combined_mse_mean") > 0.01, identity.toString());
    assertTrue(json.get("model") instanceof Map<?, ?> m && m.containsKey("combined_mse_std"), json.toString());

    // The exported SavedModel (read through the interop layer) scores the same draws the same.
    Object[] saved = run("evaluate", "--model", out.resolve("saved_model").toString(), "--draws", "2", "--samples",
        "16", "--json", "--device", "cpu", "--threads", "2", "--data", "embedded");
    assertEquals(0, saved[0], saved[1] + "\n" + saved[2]);
    Map<?, ?> savedJson = new Gson().fromJson((String) saved[1], Map.class);
    double fromCheckpoint = (Double) ((Map<?, ?>) json.get("model")).get("combined_mse_mean");
    double fromSavedModel = (Double) ((Map<?, ?>) savedJson.get("model")).get("combined_mse_mean");
    assertEquals(fromCheckpoint, fromSavedModel, 1e-6 * fromCheckpoint);

    // Continuing a finished run: nothing left to train, outputs rewritten, exit 0.
    Object[] resumed = run("train", "--config", "tiny", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size",
        "4", "--samples", "0", "--eval-draws", "0", "--device", "cpu", "--threads", "2", "--data", "embedded",
        "--out", out.toString(), "--resume");
    assertEquals(0, resumed[0], resumed[1] + "\n" + resumed[2]);
    assertTrue(((String) resumed[1]).contains("resuming from"), (String) resumed[1]);
  }

  @Test
  void userErrorsAreOneLineWithExitCode2(@TempDir Path tmp) {
    Object[] r = run("train", "--resume");
    assertEquals(2, r[0]);
    assertTrue(((String) r[2]).contains("--resume needs --out"), (String) r[2]);
    r = run("train", "--preset", "huge", "--out", tmp.toString());
    assertEquals(2, r[0]);
    assertTrue(((String) r[2]).contains("--preset: expected quick or seed, found 'huge'"), (String) r[2]);
    r = run("train", "--device", "tpu", "--config", "tiny", "--data", "embedded", "--out", tmp.toString());
    assertEquals(2, r[0]);
    assertTrue(((String) r[2]).contains("--device: expected cpu, gpu or auto, found 'tpu'"), (String) r[2]);
    r = run("evaluate", "--model", tmp.resolve("nothing").toString());
    assertEquals(2, r[0]);
    assertTrue(((String) r[2]).contains("no such file or directory"), (String) r[2]);
    r = run("evaluate", "--model", tmp.toString(), "--device", "cpu", "--data", "embedded");
    assertEquals(2, r[0]);
    assertTrue(((String) r[2]).contains("run directory"), (String) r[2]);
  }
}
