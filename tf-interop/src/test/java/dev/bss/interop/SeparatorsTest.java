package dev.bss.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.interop.numpy.Npy;
import dev.bss.interop.savedmodel.SavedModelExport;
import dev.bss.model.Comparison;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Every format of the tiny Keras fixture runs in Java within 1e-4 of Keras's outputs and within 1e-6 of each other;
 * Java -> SavedModel -> Java and Java -> .weights.h5 -> Java give the same outputs.
 */
class SeparatorsTest {

  @TempDir static Path tmp;

  private static Path fixture;
  private static float[] inputs;
  private static int count;
  private static float[] expected1;
  private static float[] expected2;
  /** Outputs of the Java network on the fixture's own weights (via the .keras file). */
  private static SeparationResult reference;

  @BeforeAll
  static void load() {
    fixture = Fixtures.kerasReference("tiny");
    Weight in = Npy.readFloats(fixture.resolve("inputs.npy"));
    inputs = in.data();
    count = (int) in.shape()[0];
    expected1 = Npy.readFloats(fixture.resolve("expected_decoded1.npy")).data();
    expected2 = Npy.readFloats(fixture.resolve("expected_decoded2.npy")).data();
    try (Separator s = Separators.open(fixture.resolve("reference.keras"))) {
      reference = s.separate(inputs, count);
    }
  }

  private static void assertClose(SeparationResult a, float[] e1, float[] e2, double atol, String what) {
    Comparison c1 = Comparison.of(a.decoded1(), e1, atol, 0);
    Comparison c2 = Comparison.of(a.decoded2(), e2, atol, 0);
    System.out.println(what + ": decoded1 " + c1.describe() + "; decoded2 " + c2.describe());
    assertTrue(c1.passed(), what + " decoded1: " + c1.describe());
    assertTrue(c2.passed(), what + " decoded2: " + c2.describe());
  }

  @Test
  void kerasArchiveMatchesKerasOutputs() {
    assertClose(reference, expected1, expected2, 1e-4, "tiny .keras vs Keras");
  }

  @Test
  void weightsH5AndLegacyH5GiveTheSameOutputs() {
    try (Separator s = Separators.open(fixture.resolve("reference.weights.h5"), null,
        fixture.resolve("pos_embedding.npy"))) {
      assertClose(s.separate(inputs, count), reference.decoded1(), reference.decoded2(), 1e-6, "tiny .weights.h5");
    }
    try (Separator s = Separators.open(fixture.resolve("reference_legacy.h5"))) {
      assertClose(s.separate(inputs, count), reference.decoded1(), reference.decoded2(), 1e-6, "tiny legacy .h5");
    }
  }

  @Test
  void javaToSavedModelToJava() throws IOException {
    LoadedModel model = ModelFiles.load(fixture.resolve("reference.keras"));
    Path dir = tmp.resolve("saved");
    SavedModelExport.export(dir, model.config(), model.weights(), "test");
    String provenance = Files.readString(dir.resolve(SavedModelExport.PROVENANCE));
    // a fixed key order (it varied with Map.of between JVMs)
    int key = provenance.indexOf("\"key\"");
    int input = provenance.indexOf("\"input\"");
    int outputs = provenance.indexOf("\"outputs\"");
    assertTrue(key > 0 && key < input && input < outputs, provenance);
    try (Separator s = Separators.open(dir)) {
      assertTrue(s.description().contains("input_img"), s.description());
      assertClose(s.separate(inputs, count), reference.decoded1(), reference.decoded2(), 1e-6, "tiny SavedModel");
    }
    LoadedModel back = ModelFiles.load(dir);
    assertEquals(model.config(), back.config());
    for (String p : model.weights().paths()) {
      assertEquals(model.weights().get(p), back.weights().get(p), p);
    }
  }

  @Test
  void javaToWeightsH5AndCheckpointToJava() throws IOException {
    LoadedModel model = ModelFiles.load(fixture.resolve("reference.keras"));
    Path h5 = tmp.resolve("ours.weights.h5");
    ModelFiles.save(model.config(), model.weights(), ModelFormat.WEIGHTS_H5, h5, "test");
    try (Separator s = Separators.open(h5)) {
      assertClose(s.separate(inputs, count), reference.decoded1(), reference.decoded2(), 1e-6, "tiny ours .weights.h5");
    }
    Path checkpoint = tmp.resolve("run").resolve("checkpoints").resolve("epoch-0003");
    ModelFiles.save(model.config(), model.weights(), ModelFormat.CHECKPOINT, checkpoint, "test");
    assertEquals(checkpoint, ModelFiles.runModel(tmp.resolve("run")));
    try (Separator s = Separators.open(tmp.resolve("run"))) {
      assertClose(s.separate(inputs, count), reference.decoded1(), reference.decoded2(), 1e-6, "tiny run dir");
    }
  }

  /** The seed network (the full fixture): Keras -> Java within 1e-4, then Java -> SavedModel / .weights.h5 -> Java. */
  @org.junit.jupiter.api.Tag("slow")
  @Test
  void seedConfigRoundTrips() throws IOException {
    Path full = Fixtures.kerasReference("full");
    Weight in = Npy.readFloats(full.resolve("inputs.npy"));
    int n = (int) in.shape()[0];
    LoadedModel model = ModelFiles.load(full.resolve("reference.keras"));
    assertEquals(ModelConfig.seed(), model.config());
    SeparationResult java;
    try (Separator s = Separators.open(full.resolve("reference.keras"))) {
      java = s.separate(in.data(), n);
    }
    assertClose(java, Npy.readFloats(full.resolve("expected_decoded1.npy")).data(),
        Npy.readFloats(full.resolve("expected_decoded2.npy")).data(), 1e-4, "full .keras vs Keras");
    Path saved = tmp.resolve("seed_saved");
    SavedModelExport.export(saved, model.config(), model.weights(), "test");
    try (Separator s = Separators.open(saved)) {
      assertClose(s.separate(in.data(), n), java.decoded1(), java.decoded2(), 1e-6, "full SavedModel");
    }
    Path h5 = tmp.resolve("seed.weights.h5");
    ModelFiles.save(model.config(), model.weights(), ModelFormat.WEIGHTS_H5, h5, "test");
    try (Separator s = Separators.open(h5)) {
      assertClose(s.separate(in.data(), n), java.decoded1(), java.decoded2(), 1e-6, "full ours .weights.h5");
    }
  }

  @Test
  void savedModelWithoutServingSignatureIsRefused() throws IOException {
    Path dir = tmp.resolve("unsigned");
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class);
      var v = tf.variable(tf.constant(2f));
      s.runner().addTarget(tf.assign(v, tf.constant(2f))).run();
      var y = tf.math.mul(x, v);
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withSignature(Signature.builder("double").input("x", x).output("y", y).build())
          .withSignature(Signature.builder("triple").input("x", x).output("y", y).build())
          .export();
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Separators.open(dir));
    assertTrue(e.getMessage().contains("no serving_default signature") && e.getMessage().contains("[double, triple]"),
        e.getMessage());
  }

  /** A Keras 3 export() names the input keras_tensor and the outputs output_0, output_1 (model.outputs order). */
  @Test
  void keras3StyleSignatureIsMappedByKey() throws IOException {
    LoadedModel model = ModelFiles.load(fixture.resolve("reference.keras"));
    Path dir = tmp.resolve("keras3_style");
    try (Graph g = new Graph(); Session s = new Session(g)) {
      dev.bss.model.SeparationModel m = dev.bss.model.SeparationModel.build(Ops.create(g), model.config());
      m.variables().assign(s, model.weights());
      // Outputs declared in reverse order: the mapping must come from the keys, not the declaration order.
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withSignature(Signature.builder("serving_default").input("keras_tensor", m.input())
              .output("output_1", m.decoded2(false)).output("output_0", m.decoded1(false)).build())
          .export();
    }
    try (Separator s = Separators.open(dir)) {
      assertClose(s.separate(inputs, count), reference.decoded1(), reference.decoded2(), 1e-6, "tiny Keras 3 style");
    }
  }

  @Test
  void kerasSavedModelWithOtherOutputsIsNamedAsSuch() {
    Path dir = Fixtures.savedModel("fashion_autoencoder");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Separators.open(dir));
    assertTrue(e.getMessage().contains("not a separation model") && e.getMessage().contains("model_3"),
        e.getMessage());
  }

  @Test
  void wrongInputSizeIsRefused() {
    try (Separator s = Separators.open(fixture.resolve("reference.keras"))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.separate(new float[100], 1));
      assertTrue(e.getMessage().contains("expected 1 x 32 x 32 x 1 = 1024 input values, found 100"), e.getMessage());
    }
  }

  @Test
  void missingVariableIsNamedByTheGraphLoader() throws IOException {
    LoadedModel model = ModelFiles.load(fixture.resolve("reference.keras"));
    WeightSet partial = new WeightSet();
    model.weights().asMap().forEach((k, w) -> {
      if (!k.equals("layer_normalization_2/beta")) {
        partial.put(k, w);
      }
    });
    Path npz = tmp.resolve("partial.npz");
    dev.bss.interop.numpy.Npz.writeFloats(npz, partial.asMap());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Separators.open(npz, ModelConfig.tiny(), null));
    assertTrue(e.getMessage().contains("missing: layer_normalization_2/beta"), e.getMessage());
  }
}
