package dev.bss.train.cli;

import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bss.interop.numpy.Npz;
import dev.bss.interop.numpy.NpyArray;
import dev.bss.model.Weight;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.io.HistoryCsv;
import dev.bss.train.io.TrainingState;
import dev.bss.train.loop.InitWeights;
import dev.bss.train.loop.KerasTrainingCase;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bss train --init ... --pairs ...} end to end: held to Keras's {@code model.fit} with EarlyStopping and
 * ReduceLROnPlateau ({@code ../shared/keras-training/fit-A}), started from a {@code .keras} file, and refusing
 * invalid pairs and init files with one line and exit 2.
 */
class TrainInitPairsCommandTest {

  @Test
  void fitMatchesKerasFitWithItsCallbacks(@TempDir Path tmp) throws Exception {
    KerasTrainingCase c = KerasTrainingCase.open("fit-A");
    Path out = tmp.resolve("run");
    BssRun run = bss("train", "--init", c.initialWeights().toString(), "--pos-embedding",
        c.positionEmbedding().toString(), "--config", c.file("config.json").toString(), "--pairs",
        c.file("batches.npz").toString(), "--no-shuffle", "--batch-size", "16", "--epochs", "8",
        "--early-stopping-patience", "2", "--reduce-lr-patience", "1", "--reduce-lr-factor", "0.5",
        "--reduce-lr-min-delta", "0.05", "--min-lr", "1e-6", "--samples", "0", "--eval-draws", "0",
        "--device", "cpu", "--threads", "2", "--out", out.toString());
    assertEquals(0, run.exit(), run.err());
    JsonObject keras = c.json("history.json");
    JsonObject kh = keras.getAsJsonObject("history");
    List<Map<String, Double>> history = HistoryCsv.read(out.resolve("history.csv"));
    List<String> report = new ArrayList<>();

    // Keras's CSVLogger columns: epoch, then the logs' keys sorted.
    assertEquals("epoch,decoded1_loss,decoded2_loss,learning_rate,loss",
        Files.readAllLines(out.resolve("history.csv")).get(0));
    // Epochs run, learning rate per epoch, final rate and optimizer iterations: exact.
    assertEquals(keras.get("epochs_run").getAsInt(), history.size(), "epochs run");
    JsonArray lrs = kh.getAsJsonArray("learning_rate");
    for (int e = 0; e < history.size(); e++) {
      assertEquals(lrs.get(e).getAsDouble(), history.get(e).get("learning_rate"), 0.0, "learning rate of epoch "
          + (e + 1));
    }
    List<Path> checkpoints = Checkpoint.epochCheckpoints(out.resolve("checkpoints"));
    Path last = checkpoints.get(checkpoints.size() - 1);
    TrainingState state = Checkpoint.readState(last);
    float finalLr = state.learningRate();
    assertEquals(keras.get("final_learning_rate").getAsDouble(), (double) finalLr, 0.0, "final learning rate");
    Weight iterations = Checkpoint.readOptimizer(last).get("iterations");
    long kerasIterations = Npz.read(c.file("optimizer_final.npz"), "iterations").toLongs()[0];
    assertEquals(kerasIterations, (long) iterations.data()[0], "optimizer iterations");
    report.add(String.format(Locale.ROOT, "fit-A: epochs run %d (Keras %d), learning rates %s (exact), final rate %s "
        + "(Keras %s), iterations %d (Keras %d)", history.size(), keras.get("epochs_run").getAsInt(),
        history.stream().map(h -> h.get("learning_rate")).toList(), finalLr,
        keras.get("final_learning_rate").getAsDouble(), (long) iterations.data()[0], kerasIterations));

    // Epoch losses: relative 1e-2.
    double worst = 0;
    for (String key : List.of("loss", "decoded1_loss", "decoded2_loss")) {
      JsonArray k = kh.getAsJsonArray(key);
      for (int e = 0; e < history.size(); e++) {
        double expected = k.get(e).getAsDouble();
        worst = Math.max(worst, Math.abs(history.get(e).get(key) - expected) / expected);
      }
    }
    report.add(String.format(Locale.ROOT, "fit-A epoch losses: max relative diff %.3g (tolerance 1e-2); loss per "
        + "epoch %s vs Keras %s", worst, history.stream().map(h -> String.format(Locale.ROOT, "%.6f",
        h.get("loss"))).toList(), kh.getAsJsonArray("loss")));

    // Final weights (best epoch = last: the loss falls every epoch): relative update error <= 0.5.
    Map<String, Weight> initial = InitWeights.load(c.initialWeights(), null, c.positionEmbedding()).weights()
        .asMap();
    double[] err = KerasTrainingCase.updateError(Checkpoint.readWeights(out.resolve("final")).asMap(),
        c.npz("final.npz"), initial, KerasTrainingCase.COMPARED);
    report.add(String.format(Locale.ROOT, "fit-A final weights: relative update error %.3g, worst variable %.3g "
        + "(tolerance 0.5)", err[0], err[1]));
    System.out.println(String.join("\n", report));
    assertTrue(worst <= 1e-2 && err[0] <= 0.5, String.join("\n", report));

    // run.json records what the run started from and trained on.
    JsonObject runJson = JsonParser.parseString(Files.readString(out.resolve("run.json"))).getAsJsonObject();
    assertEquals(InitWeights.sha256(c.initialWeights()), runJson.getAsJsonObject("init").get("sha256").getAsString());
    assertEquals("weights-h5", runJson.getAsJsonObject("init").get("format").getAsString());
    assertEquals(64, runJson.getAsJsonObject("pairs").get("pairs").getAsInt());
    assertFalse(state.settings().isEmpty(), state.toString());
  }

  @Test
  void fineTunesAKerasFileOnPairsWithASmallerLastBatch(@TempDir Path tmp) throws Exception {
    Path keras = KerasTrainingCase.shared().resolve("keras-reference/tiny/reference.keras");
    KerasTrainingCase c = KerasTrainingCase.open("fit-A");
    Path out = tmp.resolve("run");
    // 64 pairs in batches of 24: 24, 24, 16.
    BssRun run = bss("train", "--init", keras.toString(), "--config", "tiny", "--pairs",
        c.file("batches.npz").toString(), "--no-shuffle", "--batch-size", "24", "--epochs", "1", "--samples", "0",
        "--eval-draws", "0", "--device", "cpu", "--threads", "2", "--out", out.toString());
    assertEquals(0, run.exit(), run.err());
    assertEquals("epoch,decoded1_loss,decoded2_loss,learning_rate,loss",
        Files.readAllLines(out.resolve("history.csv")).get(0));
    Weight iterations = Checkpoint.readOptimizer(out.resolve("checkpoints/epoch-0001")).get("iterations");
    assertEquals(3, (int) iterations.data()[0], "ceil(64 / 24) steps");
    JsonObject runJson = JsonParser.parseString(Files.readString(out.resolve("run.json"))).getAsJsonObject();
    assertEquals("keras", runJson.getAsJsonObject("init").get("format").getAsString());
  }

  @Test
  void invalidPairsAndInitFilesGetOneLineAndExit2(@TempDir Path tmp) throws Exception {
    KerasTrainingCase c = KerasTrainingCase.open("fit-A");
    Path good = c.file("batches.npz");
    Map<String, NpyArray> arrays = Npz.read(good);

    Map<String, NpyArray> missing = new LinkedHashMap<>(arrays);
    missing.remove("decoded2");
    Path noKey = tmp.resolve("nokey.npz");
    Npz.write(noKey, missing);

    Map<String, NpyArray> shaped = new LinkedHashMap<>(arrays);
    NpyArray in = arrays.get("inputs");
    shaped.put("inputs", new NpyArray("x", in.dtype(), new long[] {64, 16, 64, 1}, in.bytes()));
    Path badShape = tmp.resolve("shape.npz");
    Npz.write(badShape, shaped);

    Map<String, NpyArray> nan = new LinkedHashMap<>(arrays);
    byte[] bytes = arrays.get("decoded1").bytes().clone();
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putFloat(4 * 5000, Float.NaN);
    nan.put("decoded1", new NpyArray("x", "<f4", arrays.get("decoded1").shape(), bytes));
    Path nanFile = tmp.resolve("nan.npz");
    Npz.write(nanFile, nan);

    Path notZip = tmp.resolve("text.npz");
    Files.writeString(notZip, "not an archive");
    Path notKeras = tmp.resolve("model.keras");
    Files.writeString(notKeras, "not a keras file");

    record Case(List<String> args, String expected) {}
    List<Case> cases = List.of(
        new Case(List.of("--pairs", tmp.resolve("absent.npz").toString()), "no such file"),
        new Case(List.of("--pairs", noKey.toString()), "no 'decoded2'"),
        new Case(List.of("--pairs", badShape.toString()), "expected shape [N, 32, 32, 1], found [64, 16, 64, 1]"),
        new Case(List.of("--pairs", nanFile.toString()), "expected finite values, found NaN at pair 4"),
        new Case(List.of("--pairs", notZip.toString()), "not a readable .npz"),
        new Case(List.of("--pairs", good.toString(), "--steps-per-epoch", "3"), "--steps-per-epoch"),
        new Case(List.of("--init", notKeras.toString(), "--pairs", good.toString()), "--init: "),
        new Case(List.of("--init", tmp.resolve("absent.keras").toString()), "--init: "),
        new Case(List.of("--init", KerasTrainingCase.shared().resolve("keras-reference/tiny/reference.weights.h5")
            .toString(), "--config", "tiny"), "--init: "),
        new Case(List.of("--dropout", "1.5"), "--dropout"),
        new Case(List.of("--reduce-lr-factor", "2"), "--reduce-lr-factor"));
    for (Case k : cases) {
      List<String> args = new ArrayList<>(List.of("train", "--out", tmp.resolve("out").toString(), "--epochs", "1",
          "--eval-draws", "0", "--samples", "0"));
      args.addAll(k.args());
      BssRun r = bss(args.toArray(String[]::new));
      assertEquals(2, r.exit(), k + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), k + ": " + r.err());
      assertTrue(r.err().contains(k.expected()), k + ": " + r.err());
    }
    assertTrue(!Files.exists(tmp.resolve("out/checkpoints")), "nothing trained");
  }
}
