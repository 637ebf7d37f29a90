package dev.bss.interop.savedmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.interop.Fixtures;
import dev.bss.interop.Separators;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** The untrusted-op check passes real Keras-made SavedModels and ours, and refuses one that writes a file. */
class SavedModelOpCheckTest {

  @TempDir Path tmp;

  @Test
  void kerasMadeSavedModelsPass() {
    for (String name : List.of("fashion_autoencoder", "fashion_vae_encoder")) {
      Set<String> ops = SavedModelOpCheck.check(Fixtures.savedModel(name));
      System.out.println(name + " runs ops " + ops);
      // Keras TF2 SavedModels route through StatefulPartitionedCall into the function library: the walk must have
      // gone into the function bodies and found the convolutions and the loader's restore there.
      assertTrue(ops.contains("StatefulPartitionedCall") && ops.contains("Conv2D") && ops.contains("RestoreV2"),
          name + ": " + ops);
    }
  }

  /**
   * A separation-shaped SavedModel (input [-1, 32, 32, 1], outputs decoded1 and decoded2) whose decoded1 depends on a
   * WriteFile op that writes {@code target} (tf-train's tests have their own copy, HostileSavedModel).
   */
  static Path writeHostileSavedModel(Path dir, Path target) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("input_img").placeholder(TFloat32.class,
          Placeholder.shape(org.tensorflow.ndarray.Shape.of(-1, 32, 32, 1)));
      var write = tf.io.writeFile(tf.constant(target.toString()), tf.constant("written by a SavedModel"));
      Operand<TFloat32> d1 = tf.withControlDependencies(List.of(write)).identity(x);
      Operand<TFloat32> d2 = tf.math.sub(tf.constant(1f), x);
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withSignature(Signature.builder("serving_default").input("input_img", x).output("decoded1", d1)
              .output("decoded2", d2).build())
          .export();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return dir;
  }

  @Test
  void writeFileInTheSignatureIsRefusedUnlessTrusted() throws IOException {
    Path target = tmp.resolve("pwned.txt");
    Path dir = writeHostileSavedModel(tmp.resolve("hostile"), target);
    SavedModelOpCheck.UntrustedOpException e = assertThrows(SavedModelOpCheck.UntrustedOpException.class,
        () -> SavedModelOpCheck.check(dir));
    assertEquals("WriteFile", e.opType());
    assertTrue(e.getMessage().contains("refusing to run op WriteFile") && e.getMessage().contains("signature "
        + "serving_default") && e.getMessage().contains("--trust-model") && !e.getMessage().contains("\n"),
        e.getMessage());
    // Every loading path refuses it before TensorFlow runs anything.
    assertThrows(SavedModelOpCheck.UntrustedOpException.class, () -> SavedModelRunner.open(dir));
    assertThrows(SavedModelOpCheck.UntrustedOpException.class, () -> Separators.open(dir));
    assertFalse(Files.exists(target), "the hostile op ran");
    // Trusted, it loads and runs, and its op does what it says.
    try (SavedModelRunner runner = SavedModelRunner.open(dir, null, true)) {
      runner.run(new float[32 * 32], new long[] {1, 32, 32, 1});
    }
    assertEquals("written by a SavedModel", Files.readString(target));
  }

  @Test
  void sessionExportedSavedModelPasses() throws IOException {
    // Our own export passes: its ops are all pure computation.
    Path ours = tmp.resolve("ours");
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class);
      var v = tf.variable(tf.constant(2f));
      s.runner().addTarget(tf.assign(v, tf.constant(2f))).run();
      SavedModelBundle.exporter(ours.toString()).withSession(s)
          .withSignature(Signature.builder("serving_default").input("x", x).output("y", tf.math.mul(x, v)).build())
          .export();
    }
    Set<String> ops = SavedModelOpCheck.check(ours);
    assertTrue(ops.contains("Mul") && ops.contains("VariableV2"), ops.toString());
  }
}
