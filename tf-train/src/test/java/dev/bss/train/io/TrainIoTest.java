package dev.bss.train.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint directories, history.csv and the PNG figures. */
class TrainIoTest {

  @Test
  void historyNumbersAreWrittenAsPythonsCsvWriterWritesThem() {
    // Python's repr of the same doubles (CSVLogger writes str(float)).
    assertEquals("0.0010000000474974513", HistoryCsv.pythonRepr((double) 1e-3f));
    assertEquals("1.5625000742147677e-05", HistoryCsv.pythonRepr((double) 1.5625e-5f));
    assertEquals("0.0001", HistoryCsv.pythonRepr(1e-4));
    assertEquals("3.0", HistoryCsv.pythonRepr(3));
    assertEquals("1e+16", HistoryCsv.pythonRepr(1e16));
    assertEquals("-2.5e-07", HistoryCsv.pythonRepr(-2.5e-7));
    assertEquals("0.4137534201145172", HistoryCsv.pythonRepr(0.4137534201145172));
    assertEquals("nan", HistoryCsv.pythonRepr(Double.NaN));
  }

  private static WeightSet weights(float value) {
    return new WeightSet().put("conv2d/kernel", new Weight(new long[] {1, 2}, new float[] {value, -value}))
        .put(WeightSet.POSITION_EMBEDDING, new Weight(new long[] {1, 1, 2}, new float[] {0.5f, Float.MIN_VALUE}));
  }

  @Test
  void checkpointRoundTripsExactlyAndReplacesAtomically(@TempDir Path tmp) {
    Path dir = tmp.resolve("checkpoints").resolve(Checkpoint.epochDirName(3));
    TrainingState state = TrainingStateTest.sample();
    Map<String, Weight> optimizer = Map.of("iterations", new Weight(new long[0], new float[] {30}));
    Checkpoint.write(dir, ModelConfig.tiny(), weights(0.1f), optimizer, state);
    assertEquals(weights(0.1f).asMap(), Checkpoint.readWeights(dir).asMap());
    assertEquals(ModelConfig.tiny(), Checkpoint.readConfig(dir));
    assertEquals(30f, Checkpoint.readOptimizer(dir).get("iterations").data()[0]);
    assertEquals(state, Checkpoint.readState(dir));
    // Rewriting replaces the whole directory; no temporary is left behind.
    Checkpoint.writeWeights(dir, ModelConfig.tiny(), weights(0.2f), 3, Map.of());
    assertEquals(weights(0.2f).asMap(), Checkpoint.readWeights(dir).asMap());
    // Only the checkpoint is left in its folder (no temporary, no replaced copy), holding only the new files.
    assertEquals(List.of(Checkpoint.epochDirName(3)), names(dir.getParent()));
    assertEquals(List.of(Checkpoint.MODEL, Checkpoint.STATE, Checkpoint.WEIGHTS), names(dir));
  }

  /** The sorted names in {@code dir}. */
  static List<String> names(Path dir) {
    try (var list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void onlyCompleteEpochCheckpointsCountAndPruneKeepsTheNewest(@TempDir Path tmp) throws Exception {
    for (int epoch = 1; epoch <= 4; epoch++) {
      Checkpoint.writeWeights(tmp.resolve(Checkpoint.epochDirName(epoch)), ModelConfig.tiny(), weights(epoch), epoch,
          Map.of());
    }
    Checkpoint.writeWeights(tmp.resolve(Checkpoint.BEST), ModelConfig.tiny(), weights(9), 2, Map.of("loss", "0.5"));
    // A half-written checkpoint of a killed run: a temporary, and a directory without state.json.
    Files.createDirectories(tmp.resolve(".epoch-0005.tmp"));
    Files.createDirectories(tmp.resolve("epoch-0006"));
    Files.writeString(tmp.resolve("epoch-0006").resolve(Checkpoint.WEIGHTS), "partial");
    assertEquals(List.of(1, 2, 3, 4), Checkpoint.epochCheckpoints(tmp).stream().map(Checkpoint::epochOf).toList());
    Checkpoint.prune(tmp, 2);
    assertEquals(List.of(3, 4), Checkpoint.epochCheckpoints(tmp).stream().map(Checkpoint::epochOf).toList());
    assertTrue(Files.isDirectory(tmp.resolve(Checkpoint.BEST)));
  }

  @Test
  void missingOrBrokenCheckpointFilesAreNamed(@TempDir Path tmp) throws Exception {
    var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.readWeights(tmp));
    assertTrue(e.getMessage().contains("not a checkpoint (expected weights.npz)"), e.getMessage());
    Files.writeString(tmp.resolve(Checkpoint.STATE), "{not json");
    e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.readState(tmp));
    assertTrue(e.getMessage().contains("state.json: expected a JSON object"), e.getMessage());
  }

  @Test
  void historyCsvHasKerasHeaderAndRoundTrips(@TempDir Path tmp) throws Exception {
    Map<String, Double> e0 = new LinkedHashMap<>();
    e0.put("loss", 0.01837);
    e0.put("decoded1_loss", 0.1 / 3);
    e0.put("decoded2_loss", 0.005);
    e0.put("learning_rate", (double) 1e-3f);
    Map<String, Double> e1 = new LinkedHashMap<>(e0);
    e1.put("loss", 0.00431);
    Path file = tmp.resolve("history.csv");
    HistoryCsv.write(file, List.of(e0, e1));
    List<String> lines = Files.readAllLines(file);
    // CSVLogger: epoch first, then the keys sorted.
    assertEquals("epoch,decoded1_loss,decoded2_loss,learning_rate,loss", lines.get(0));
    assertTrue(lines.get(2).startsWith("1,"), lines.get(2));
    assertEquals(List.of(e0, e1), HistoryCsv.read(file));
  }

  @Test
  void plotsAreReadablePngs(@TempDir Path tmp) throws Exception {
    Map<String, Double> e0 = Map.of("loss", 0.1, "decoded1_loss", 0.05, "val_loss", 0.2, "learning_rate", 1e-3);
    Map<String, Double> e1 = Map.of("loss", 0.05, "decoded1_loss", 0.02, "val_loss", 0.1, "learning_rate", 1e-3);
    Path loss = tmp.resolve("loss.png");
    Plots.lossPlot(loss, List.of(e0, e1));
    assertEquals(900, ImageIO.read(loss.toFile()).getWidth());
    float[] images = new float[3 * 1024];
    for (int i = 0; i < images.length; i++) {
      images[i] = (i % 1024) / 1024f;
    }
    Path grid = tmp.resolve("samples.png");
    Plots.sampleGrid(grid, 3, images, images, images, images, images);
    var image = ImageIO.read(grid.toFile());
    assertEquals(5 * (96 + 4) + 4, image.getHeight());
    // The last pixel of the first sample's mixture is light (value ~1), its first is black.
    assertEquals(0, image.getRGB(110, 4) & 0xFF);
    assertTrue((image.getRGB(110 + 95, 4 + 95) & 0xFF) > 240);
    try (var files = Files.list(tmp)) {
      assertEquals(2, files.count(), "no temporary left");
    }
  }
}
