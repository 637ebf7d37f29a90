package dev.bss.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.ModelConfig;
import dev.bss.model.ModelVariable;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import dev.bss.train.data.Batch;
import dev.bss.train.data.DataSource;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.io.HistoryCsv;
import dev.bss.train.io.TrainingState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/** The training graph and loop on the tiny config, one graph shared by the class (resume reassigns all state). */
class TrainingTest {

  private static TrainingGraph graph;
  private static PairData data;
  private static final int THREADS = 2;

  @BeforeAll
  static void build() {
    graph = new TrainingGraph(ModelConfig.tiny(), Devices.choose("cpu", THREADS).config());
    data = new DatasetsPairData(DataSource.embedded());
  }

  @AfterAll
  static void close() {
    graph.close();
  }

  private static TrainOptions options(Path out, int epochs, int steps, boolean resume) {
    return new TrainOptions(ModelConfig.tiny(), "test", epochs, steps, 8, 1e-3, 7, 5, out, resume, 0, 0, 0, 0);
  }

  private static Trainer.Result train(TrainOptions options, PairData source) {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
    return new Trainer(options, source, graph, out, new Progress(out, false)).run();
  }

  @Test
  void gradientsMatchFiniteDifferencesOnEveryLayerKind() {
    // Keras's zero biases put every pre-activation of a blank pixel exactly on ReLU's kink, where a finite
    // difference sees half the slope; small random biases move them off it.
    WeightSet start = graph.model().variables().initialValues(3);
    Random random = new Random(3);
    for (ModelVariable v : graph.model().variables().all()) {
      if (v.trainable() && v.path().endsWith("bias")) {
        float[] bias = start.get(v.path()).data().clone();
        for (int i = 0; i < bias.length; i++) {
          bias[i] = (float) (random.nextGaussian() * 0.05);
        }
        start.put(v.path(), new Weight(v.shape(), bias));
      }
    }
    graph.initialize(start);
    Batch batch = Batch.allocate(4);
    data.training(11).fill(batch);
    long[] dropoutSeed = {5, 9};
    List<ModelVariable> trainable = graph.model().variables().trainable();
    List<Integer> chosen = chooseOnePerLayerKind(trainable);
    List<float[]> gradients = gradients(batch, dropoutSeed, chosen);
    WeightSet original = graph.model().variables().read(graph.session());
    List<String> report = new ArrayList<>();
    int failures = 0;
    for (int c = 0; c < chosen.size(); c++) {
      ModelVariable v = trainable.get(chosen.get(c));
      float[] g = gradients.get(c);
      // The largest gradient entry: its finite difference stands well above float32 round-off of the loss.
      int index = 0;
      for (int i = 1; i < g.length; i++) {
        if (Math.abs(g[i]) > Math.abs(g[index])) {
          index = i;
        }
      }
      Weight w = original.get(v.path());
      // float32 losses carry ~3e-8 of round-off: eps of 1e-3..3e-3 keeps that noise near 1e-5 in the quotient.
      // A ReLU or max-pool kink inside [w - eps, w + eps] bends one of the two quotients; the other must agree.
      double analytic = g[index];
      double fd = Double.NaN;
      boolean ok = false;
      for (double scale : new double[] {3e-3, 1e-3}) {
        double eps = scale * Math.max(1, Math.abs(w.data()[index]));
        double up = lossWith(v, w, index, (float) (w.data()[index] + eps), batch, dropoutSeed);
        double down = lossWith(v, w, index, (float) (w.data()[index] - eps), batch, dropoutSeed);
        fd = (up - down) / (2 * eps);
        if (Math.abs(fd - analytic) <= 3e-2 * Math.abs(analytic) + 2e-5) {
          ok = true;
          break;
        }
      }
      report.add(String.format("%s[%d]: analytic %.6g, finite difference %.6g%s", v.path(), index, analytic, fd,
          ok ? "" : "  <-- MISMATCH"));
      if (!ok) {
        failures++;
      }
      assign(v, w);
    }
    assertTrue(chosen.size() >= 14, "layer kinds covered: " + report);
    assertEquals(0, failures, String.join("\n", report));
  }

  /** The first kernel/gamma/beta/... of every (layer class, variable) kind, plus CBAM's dense pair and 7x7 conv. */
  private static List<Integer> chooseOnePerLayerKind(List<ModelVariable> trainable) {
    List<String> seen = new ArrayList<>();
    List<Integer> chosen = new ArrayList<>();
    int spatial = -1;
    for (int i = 0; i < trainable.size(); i++) {
      ModelVariable v = trainable.get(i);
      long[] s = v.shape();
      if (spatial < 0 && s.length == 4 && s[0] == 7 && s[2] == 2) {
        spatial = i;
      }
      String leaf = v.path().substring(v.layerName().length());
      String kind = v.layerClass() + leaf;
      if (!seen.contains(kind)) {
        seen.add(kind);
        chosen.add(i);
      }
    }
    assertTrue(spatial > 2, "no CBAM spatial 7x7 conv found");
    // CBAM's shared dense pair precedes its spatial conv: dense (C -> C/r) kernel and dense (C/r -> C) kernel.
    for (int i : new int[] {spatial, spatial - 2, spatial - 4}) {
      if (!chosen.contains(i)) {
        chosen.add(i);
      }
    }
    return chosen;
  }

  private List<float[]> gradients(Batch batch, long[] dropoutSeed, List<Integer> chosen) {
    List<Tensor> tensors = new ArrayList<>();
    try {
      // The step's own feeds, without the update; the three losses come first, then the gradients.
      Session.Runner r = graph.stepRunner(batch, 0f, dropoutSeed, false, tensors);
      for (int i : chosen) {
        r.fetch(graph.gradients().get(i));
      }
      List<float[]> out = new ArrayList<>();
      try (var result = r.run()) {
        for (int k = 0; k < chosen.size(); k++) {
          TFloat32 t = (TFloat32) result.get(3 + k);
          float[] values = new float[(int) t.shape().size()];
          t.copyTo(DataBuffers.of(values, false, false));
          out.add(values);
        }
      }
      return out;
    } finally {
      tensors.forEach(Tensor::close);
    }
  }

  private double lossWith(ModelVariable v, Weight w, int index, float value, Batch batch, long[] dropoutSeed) {
    float[] data = w.data().clone();
    data[index] = value;
    assign(v, new Weight(w.shape(), data));
    return graph.lossOnly(batch, dropoutSeed).loss();
  }

  private static void assign(ModelVariable v, Weight w) {
    try (TFloat32 t = TFloat32.tensorOf(Shape.of(w.shape()), DataBuffers.of(w.data(), true, false))) {
      graph.session().runner().feed(v.feed(), t).addTarget(v.assign()).run().close();
    }
  }

  @Test
  @Tag("slow")
  void resumedRunEndsBitIdenticalToUninterruptedRun(@TempDir Path tmp) {
    Path straight = tmp.resolve("straight");
    Path killed = tmp.resolve("killed");
    Trainer.Result full = train(options(straight, 2, 5, false), data);
    WeightSet fullWeights = graph.model().variables().read(graph.session());
    Map<String, Weight> fullOptimizer = graph.optimizer().read(graph.session());

    // "Kill" after the first epoch: a run of 1 epoch leaves exactly what a killed run leaves behind.
    train(options(killed, 1, 5, false), data);
    graph.initialize(graph.model().variables().initialValues(99)); // garbage in the session, as in a new process
    Trainer.Result resumed = train(options(killed, 2, 5, true), data);
    WeightSet resumedWeights = graph.model().variables().read(graph.session());

    assertEquals(fullWeights.paths(), resumedWeights.paths());
    for (String path : fullWeights.paths()) {
      assertEquals(fullWeights.get(path), resumedWeights.get(path), path + " differs after resume");
    }
    assertEquals(fullOptimizer, graph.optimizer().read(graph.session()));
    assertEquals(full.history(), resumed.history());
    assertEquals(HistoryCsv.read(straight.resolve("history.csv")), HistoryCsv.read(killed.resolve("history.csv")));
    assertEquals(List.of(1, 2), Checkpoint.epochCheckpoints(killed.resolve("checkpoints")).stream()
        .map(Checkpoint::epochOf).toList());
  }

  @Test
  void temporariesOfAKilledCheckpointWriteGoWithTheNextWrite(@TempDir Path tmp) throws Exception {
    train(options(tmp, 1, 1, false), data);
    Path checkpoints = tmp.resolve("checkpoints");
    // What kill -9 during a checkpoint write leaves: AtomicFiles' temporary and replaced directories.
    Files.createDirectories(checkpoints.resolve(".epoch-0002.8812345"));
    Files.writeString(checkpoints.resolve(".epoch-0002.8812345").resolve(Checkpoint.WEIGHTS), "partial");
    Files.createDirectories(checkpoints.resolve(".best.old.4242"));
    Files.createDirectories(checkpoints.resolve("notes-of-the-user"));
    assertEquals(List.of(".best.old.4242", ".epoch-0002.8812345", "best", "epoch-0001", "notes-of-the-user"),
        names(checkpoints));
    Trainer.Result resumed = train(options(tmp, 2, 1, true), data);
    assertEquals(2, resumed.epochsDone());
    assertEquals(List.of("best", "epoch-0001", "epoch-0002", "notes-of-the-user"), names(checkpoints));
    assertEquals(2, CheckpointScan.load(checkpoints.resolve("epoch-0002")).epoch());
  }

  @Test
  void shuffledPairsFileResumesBitIdenticalWithASmallerLastBatch(@TempDir Path tmp) {
    // 40 pairs in batches of 16: steps of 16, 16 and 8, in a new seeded order each epoch.
    Batch pairs = Batch.allocate(40);
    data.training(5).fill(pairs);
    Map<String, dev.bss.interop.numpy.NpyArray> arrays = new java.util.LinkedHashMap<>();
    float[][] values = {pairs.mixtureValues(), pairs.mnistValues(), pairs.fashionValues()};
    String[] keys = {"inputs", "decoded1", "decoded2"};
    for (int k = 0; k < 3; k++) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values[k].length * 4)
          .order(java.nio.ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(values[k]);
      arrays.put(keys[k], new dev.bss.interop.numpy.NpyArray(keys[k], "<f4", new long[] {40, 32, 32, 1}, b.array()));
    }
    Path file = tmp.resolve("pairs.npz");
    dev.bss.interop.numpy.Npz.write(file, arrays);
    PairsDataset set = PairsDataset.load(file, 16, true, () -> data);
    java.util.function.BiFunction<Path, Integer, TrainOptions> opts = (out, epochs) -> new TrainOptions(
        ModelConfig.tiny(), "test", epochs, set.stepsPerEpoch(), 16, 1e-3, 7, 5, out, epochs == 2
        && out.endsWith("killed"), 0, 0, 0, 0, new FitSettings(CallbackSettings.seed(5), null, set, null));
    Trainer.Result full = train(opts.apply(tmp.resolve("straight"), 2), set);
    WeightSet fullWeights = graph.model().variables().read(graph.session());
    assertEquals(6, graph.optimizer().iterations(graph.session()));
    train(opts.apply(tmp.resolve("killed"), 1), set);
    graph.initialize(graph.model().variables().initialValues(99));
    Trainer.Result resumed = train(opts.apply(tmp.resolve("killed"), 2), set);
    assertEquals(full.history(), resumed.history());
    for (String path : fullWeights.paths()) {
      assertEquals(fullWeights.get(path), graph.model().variables().read(graph.session()).get(path), path);
    }
    TrainingState state = Checkpoint.readState(tmp.resolve("killed/checkpoints/epoch-0002"));
    assertTrue(String.valueOf(state.fit()).contains("shuffle=true"), String.valueOf(state));
  }

  @Test
  void resumeWithoutCheckpointIsRefused(@TempDir Path tmp) {
    var e = assertThrows(IllegalArgumentException.class, () -> train(options(tmp, 1, 1, true), data));
    assertTrue(e.getMessage().contains("no complete checkpoint under"), e.getMessage());
  }

  @Test
  void nonFiniteLossStopsAndKeepsTheLastGoodCheckpoint(@TempDir Path tmp) {
    // Poison the data of the second epoch: a NaN pixel makes the loss NaN.
    long poisoned = Trainer.epochDataSeed(7, 1);
    PairData nanData = new PairData() {
      @Override
      public BatchStream training(long seed) {
        BatchStream real = data.training(seed);
        return batch -> {
          real.fill(batch);
          if (seed == poisoned) {
            batch.mixture().setFloat(Float.NaN, 17);
          }
        };
      }

      @Override
      public BatchStream test(long seed) {
        return data.test(seed);
      }

      @Override
      public String description() {
        return "poisoned";
      }
    };
    Trainer.Result result = train(options(tmp, 3, 3, false), nanData);
    assertEquals(Trainer.Status.NON_FINITE_LOSS, result.status());
    assertTrue(result.message().contains("loss became NaN at epoch 2 step 1"), result.message());
    assertTrue(result.message().contains("epoch-0001"), result.message());
    assertEquals(List.of(1), Checkpoint.epochCheckpoints(tmp.resolve("checkpoints")).stream()
        .map(Checkpoint::epochOf).toList());
    assertEquals(1, result.history().size());
    // The weights restored at the end are the last good (best) ones, all finite.
    for (Weight w : graph.model().variables().read(graph.session()).asMap().values()) {
      assertEquals(-1, w.firstNonFinite());
    }
  }

  @Test
  void tinyRunOfHundredsOfStepsLowersTheLossSteadily(@TempDir Path tmp) {
    Trainer.Result result = train(new TrainOptions(ModelConfig.tiny(), "test", 6, 50, 16, 3e-3, 1, 5, tmp, false,
        0, 0, 0, 0), data);
    List<Double> losses = result.history().stream().map(h -> h.get("loss")).toList();
    for (int i = 1; i < losses.size(); i++) {
      assertTrue(losses.get(i) < losses.get(i - 1), "epoch losses not decreasing: " + losses);
    }
    assertTrue(losses.get(losses.size() - 1) < 0.5 * losses.get(0), "loss did not halve: " + losses);
    assertEquals(Trainer.Status.COMPLETED, result.status());
    assertEquals(6, result.bestEpoch());
    assertEquals(1e-3 * 3, result.history().get(0).get("learning_rate"), 1e-9);
  }

  @Test
  @Tag("slow")
  void trainingRunWritesEveryOutput(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    TrainOptions options = new TrainOptions(ModelConfig.tiny(), "test", 2, 3, 8, 1e-3, 3, 5, out, false, 16, 4, 2,
        20);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TrainingRun.Outcome outcome = TrainingRun.execute(options, data, Devices.choose("cpu", THREADS), THREADS,
        List.of("bss", "train", "--config", "tiny"), new PrintStream(log, true, StandardCharsets.UTF_8), false);
    String text = log.toString(StandardCharsets.UTF_8);
    for (String file : List.of("run.json", "history.csv", "loss.png", "samples.png", "final/weights.npz",
        "final/model.json", "checkpoints/epoch-0002/optimizer.npz", "checkpoints/epoch-0002/state.json",
        "checkpoints/best/weights.npz", "saved_model/saved_model.pb")) {
      assertTrue(Files.isRegularFile(out.resolve(file)), file + " missing; log:\n" + text);
    }
    assertTrue(text.contains("outputs in " + out.toAbsolutePath()), text);
    assertTrue(text.contains("device: cpu"), text);
    String run = Files.readString(out.resolve("run.json"));
    assertTrue(run.contains("\"evaluation\"") && run.contains("\"identity_baseline\"") && run.contains("--config"),
        run);
    // The data's provenance: each set's image count and pixel sum.
    var sets = com.google.gson.JsonParser.parseString(run).getAsJsonObject().getAsJsonObject("data_provenance")
        .getAsJsonObject("sets");
    for (dev.bss.train.data.ImageSet set : ((DatasetsPairData) data).datasets().sets()) {
      assertEquals(set.pixelSum(), sets.getAsJsonObject(set.name()).get("pixel_sum").getAsLong(), set.name());
    }
    assertNotNull(outcome.evaluation());
    assertEquals(2, outcome.evaluation().model().draws().size());
    List<Map<String, Double>> history = HistoryCsv.read(out.resolve("history.csv"));
    assertEquals(2, history.size());
    assertTrue(history.get(1).containsKey("val_loss") && history.get(1).containsKey("decoded2_loss"),
        history.toString());
    assertEquals(Checkpoint.readWeights(out.resolve("final")).asMap(),
        Checkpoint.readWeights(out.resolve("checkpoints/best")).asMap());
    // Nothing but the documented outputs (no temporary, no lock file) is left in the run folder.
    assertEquals(List.of("checkpoints", "final", "history.csv", "loss.png", "run.json", "samples.png", "saved_model"),
        names(out));
    assertEquals(List.of("best", "epoch-0001", "epoch-0002"), names(out.resolve("checkpoints")));
    assertEquals(List.of("model.json", "optimizer.npz", "state.json", "weights.npz"),
        names(out.resolve("checkpoints/epoch-0002")));
    // A second run into the same folder without --resume is refused rather than mixing two runs.
    var e = assertThrows(IllegalArgumentException.class, () -> TrainingRun.execute(options, data,
        Devices.choose("cpu", THREADS), THREADS, List.of(), new PrintStream(new ByteArrayOutputStream()), false));
    assertTrue(e.getMessage().contains("already holds checkpoints"), e.getMessage());
  }

  private static List<String> names(Path dir) throws java.io.IOException {
    try (var list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void randomBatchesDifferBetweenEpochsAndRepeatWithTheSeed() {
    Batch a = Batch.allocate(2);
    Batch b = Batch.allocate(2);
    data.training(Trainer.epochDataSeed(1, 0)).fill(a);
    data.training(Trainer.epochDataSeed(1, 0)).fill(b);
    assertEquals(java.util.Arrays.toString(a.mixtureValues()), java.util.Arrays.toString(b.mixtureValues()));
    data.training(Trainer.epochDataSeed(1, 1)).fill(b);
    assertFalse(java.util.Arrays.equals(a.mixtureValues(), b.mixtureValues()));
  }
}
