package dev.bss.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.bss.model.ModelConfig;
import dev.bss.model.ModelVariable;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import dev.bss.train.data.Batch;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * The training loop held to real Keras 3 {@code train_on_batch} runs ({@code ../shared/keras-training/tiny-A} and
 * {@code full-A}), through the code path of {@code bss train --init W --pos-embedding P --config C --pairs B
 * --no-shuffle}: {@link InitWeights}, {@link PairsDataset} and {@link Trainer} (one epoch = the case's steps), with
 * the README's tolerances. The measured values are printed (they are quoted in the README).
 */
class KerasTrainingParityTest {

  /** What a run of a case measured. */
  record Measured(List<TrainingGraph.StepLoss> losses, Map<String, float[]> gradients, Map<Long, WeightSet> snapshots,
      WeightSet finalWeights, long iterations, WeightSet initial) {}

  static Measured run(KerasTrainingCase c, int batchSize, Set<Long> snapshotSteps, Path out) {
    ModelConfig config = c.config();
    InitWeights init = InitWeights.load(c.initialWeights(), config, c.positionEmbedding());
    PairsDataset pairs = PairsDataset.load(c.file("batches.npz"), batchSize, false, null);
    TrainOptions options = new TrainOptions(config, "keras-parity", 1, pairs.stepsPerEpoch(), batchSize, 1e-3, 1, 5,
        out, false, 0, 0, 0, 0, new FitSettings(CallbackSettings.seed(5), init, pairs, null));
    try (TrainingGraph graph = new TrainingGraph(config, Devices.choose("cpu", 2).config())) {
      // Step-1 gradients: the initial weights on the first batch, through the graph the loop's step runs.
      graph.initialize(init.weights());
      Map<String, float[]> gradients;
      try (Batch first = Batch.allocate(batchSize)) {
        pairs.training(Trainer.epochDataSeed(1, 0)).fill(first);
        gradients = gradients(graph, first);
      }

      List<TrainingGraph.StepLoss> losses = new ArrayList<>();
      Map<Long, WeightSet> snapshots = new LinkedHashMap<>();
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8);
      Trainer.Result result = new Trainer(options, pairs, graph, ps, new Progress(ps, false))
          .observeSteps((epoch, step, globalStep, batch, loss) -> {
            losses.add(loss);
            if (snapshotSteps.contains(globalStep)) {
              snapshots.put(globalStep, graph.model().variables().read(graph.session()));
            }
          }).run();
      assertEquals(Trainer.Status.COMPLETED, result.status(), log.toString(StandardCharsets.UTF_8));
      return new Measured(losses, gradients, snapshots, graph.model().variables().read(graph.session()),
          graph.optimizer().iterations(graph.session()), init.weights());
    }
  }

  private static Map<String, float[]> gradients(TrainingGraph graph, Batch batch) {
    List<Tensor> tensors = new ArrayList<>();
    List<ModelVariable> trainable = graph.model().variables().trainable();
    try {
      // The step's own feeds, without the update; the three losses come first, then the gradients.
      Session.Runner r = graph.stepRunner(batch, 0f, new long[] {1, 0}, false, tensors);
      graph.gradients().forEach(r::fetch);
      Map<String, float[]> out = new LinkedHashMap<>();
      try (var result = r.run()) {
        for (int i = 0; i < trainable.size(); i++) {
          TFloat32 t = (TFloat32) result.get(3 + i);
          float[] values = new float[(int) t.shape().size()];
          t.copyTo(DataBuffers.of(values, false, false));
          out.put(trainable.get(i).path(), values);
        }
      }
      return out;
    } finally {
      tensors.forEach(Tensor::close);
    }
  }

  /** Asserts and prints everything the README bounds for a steps case; returns the report lines. */
  static List<String> check(String name, KerasTrainingCase c, Measured m) {
    List<String> report = new ArrayList<>();
    JsonArray steps = c.json("steps.json").getAsJsonArray("steps");
    assertEquals(steps.size(), m.losses().size(), name + ": steps run");

    // Step 1: abs 1e-6 on each of the three losses.
    JsonObject s1 = steps.get(0).getAsJsonObject();
    TrainingGraph.StepLoss l1 = m.losses().get(0);
    double[] step1 = {Math.abs(l1.loss() - s1.get("loss").getAsDouble()),
        Math.abs(l1.decoded1Loss() - s1.get("decoded1_loss").getAsDouble()),
        Math.abs(l1.decoded2Loss() - s1.get("decoded2_loss").getAsDouble())};
    report.add(String.format(Locale.ROOT, "%s step-1 losses abs diff: loss %.3g, decoded1 %.3g, decoded2 %.3g "
        + "(tolerance 1e-6)", name, step1[0], step1[1], step1[2]));
    List<String> failures = new ArrayList<>();
    for (double d : step1) {
      expect(d <= 1e-6, "step-1 loss", failures);
    }

    // Later steps: relative 2e-2 on each loss.
    double worstLater = 0;
    int worstStep = 0;
    StringBuilder perStep = new StringBuilder(name + " step losses (port / Keras):");
    for (int i = 0; i < steps.size(); i++) {
      perStep.append(String.format(Locale.ROOT, " %d: %.6f / %.6f;", i + 1, m.losses().get(i).loss(),
          steps.get(i).getAsJsonObject().get("loss").getAsDouble()));
    }
    report.add(perStep.toString());
    for (int i = 1; i < steps.size(); i++) {
      JsonObject s = steps.get(i).getAsJsonObject();
      TrainingGraph.StepLoss l = m.losses().get(i);
      for (double[] pair : new double[][] {{l.loss(), s.get("loss").getAsDouble()},
          {l.decoded1Loss(), s.get("decoded1_loss").getAsDouble()},
          {l.decoded2Loss(), s.get("decoded2_loss").getAsDouble()}}) {
        double rel = Math.abs(pair[0] - pair[1]) / Math.abs(pair[1]);
        if (rel > worstLater) {
          worstLater = rel;
          worstStep = i + 1;
        }
      }
    }
    report.add(String.format(Locale.ROOT, "%s later step losses: max relative diff %.3g (step %d) (tolerance 2e-2)",
        name, worstLater, worstStep));
    expect(worstLater <= 2e-2, "later step losses", failures);

    // Step-1 gradients: relative L2, global <= 1e-2 and each variable <= 0.1, attention key biases left out.
    Map<String, Weight> kerasGradients = c.npz("gradients_step1.npz");
    assertEquals(kerasGradients.keySet(), m.gradients().keySet(), name + ": gradient variables");
    double global = KerasTrainingCase.globalRelativeL2(m.gradients(), kerasGradients, KerasTrainingCase.COMPARED);
    double worst = 0;
    String worstPath = "";
    for (Map.Entry<String, Weight> e : kerasGradients.entrySet()) {
      if (KerasTrainingCase.COMPARED.test(e.getKey())) {
        double r = KerasTrainingCase.relativeL2(m.gradients().get(e.getKey()), e.getValue().data());
        if (r > worst) {
          worst = r;
          worstPath = e.getKey();
        }
      }
    }
    if (System.getenv("BSS_PARITY_VERBOSE") != null) {
      for (Map.Entry<String, Weight> e : kerasGradients.entrySet()) {
        System.out.printf(Locale.ROOT, "GRAD %s %.3g%n", e.getKey(),
            KerasTrainingCase.relativeL2(m.gradients().get(e.getKey()), e.getValue().data()));
      }
    }
    report.add(String.format(Locale.ROOT, "%s step-1 gradients relative L2: global %.3g (tolerance 1e-2), worst "
        + "variable %.3g %s (tolerance 0.1)", name, global, worst, worstPath));
    expect(global <= 1e-2 && worst <= 0.1, "step-1 gradients", failures);

    // Final weights (every variable, BN moving statistics included): relative update error <= 0.5.
    Map<String, Weight> kerasFinal = c.npz("final.npz");
    double[] err = KerasTrainingCase.updateError(m.finalWeights().asMap(), kerasFinal, m.initial().asMap(),
        KerasTrainingCase.COMPARED);
    report.add(String.format(Locale.ROOT, "%s final weights after %d steps: relative update error %.3g, worst variable"
        + " %.3g (tolerance 0.5 global)", name, steps.size(), err[0], err[1]));
    expect(err[0] <= 0.5, "final weights", failures);
    expect(steps.size() == m.iterations(), "optimizer iterations " + m.iterations(), failures);
    System.out.println(String.join("\n", report));
    assertTrue(failures.isEmpty(), name + ": beyond tolerance: " + failures + "\n" + String.join("\n", report));
    return report;
  }

  private static void expect(boolean ok, String what, List<String> failures) {
    if (!ok) {
      failures.add(what);
    }
  }

  @Test
  void tinyStepsMatchKerasTrainOnBatch(@TempDir Path tmp) {
    KerasTrainingCase c = KerasTrainingCase.open("tiny-A");
    Measured m = run(c, 16, Set.of(1L, 3L, 6L), tmp);
    List<String> report = check("tiny-A", c, m);

    // BN moving statistics after step 1: max element-wise relative diff <= 2e-6.
    Map<String, Weight> snapshots = c.npz("snapshots.npz");
    double bn = 0;
    for (String path : m.finalWeights().paths()) {
      if (path.endsWith("/moving_mean") || path.endsWith("/moving_variance")) {
        bn = Math.max(bn, KerasTrainingCase.maxRelative(m.snapshots().get(1L).get(path).data(),
            snapshots.get("step1/" + path).data()));
      }
    }
    report.add(String.format(Locale.ROOT, "tiny-A BN moving statistics after step 1: max relative diff %.3g "
        + "(tolerance 2e-6)", bn));
    assertTrue(bn <= 2e-6, String.join("\n", report));

    // Weights after steps 1, 3, 6: relative update error (<= 1e-2 after step 1, <= 0.5 later).
    for (long step : new long[] {1, 3, 6}) {
      Map<String, Weight> keras = new LinkedHashMap<>();
      String prefix = "step" + step + "/";
      snapshots.forEach((k, v) -> {
        if (k.startsWith(prefix)) {
          keras.put(k.substring(prefix.length()), v);
        }
      });
      double[] err = KerasTrainingCase.updateError(m.snapshots().get(step).asMap(), keras, m.initial().asMap(),
          KerasTrainingCase.COMPARED);
      double tolerance = step == 1 ? 1e-2 : 0.5;
      report.add(String.format(Locale.ROOT, "tiny-A weights after step %d: relative update error %.3g (tolerance %s)",
          step, err[0], tolerance));
      assertTrue(err[0] <= tolerance, String.join("\n", report));
    }
    System.out.println(String.join("\n", report));
  }

  @Test
  @Tag("slow")
  void fullNetworkStepsMatchKerasTrainOnBatch(@TempDir Path tmp) {
    KerasTrainingCase c = KerasTrainingCase.open("full-A");
    long t0 = System.nanoTime();
    Measured m = run(c, 8, Set.of(), tmp);
    List<String> report = check("full-A", c, m);
    report.add(String.format(Locale.ROOT, "full-A: graph, gradients and 3 steps in %.1f s",
        (System.nanoTime() - t0) / 1e9));
    System.out.println(String.join("\n", report));
  }
}
