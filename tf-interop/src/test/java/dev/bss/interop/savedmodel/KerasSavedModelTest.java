package dev.bss.interop.savedmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.interop.Fixtures;
import dev.bss.model.Weight;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Keras-made SavedModels of ../shared/savedmodels load, report their signature and give the README's numbers. */
class KerasSavedModelTest {

  private static double sum(float[] a) {
    double s = 0;
    for (float x : a) {
      s += x;
    }
    return s;
  }

  private static double max(float[] a) {
    double m = Double.NEGATIVE_INFINITY;
    for (float x : a) {
      m = Math.max(m, x);
    }
    return m;
  }

  /** The README's "pattern" input: ((37 k) mod 101) / 100 at flat index k. */
  private static float[] pattern() {
    float[] p = new float[32 * 32];
    for (int k = 0; k < p.length; k++) {
      p[k] = ((37 * k) % 101) / 100f;
    }
    return p;
  }

  @Test
  void fashionAutoencoderMatchesTheReferenceNumbers() {
    try (SavedModelRunner runner = SavedModelRunner.open(Fixtures.savedModel("fashion_autoencoder"))) {
      System.out.println("fashion_autoencoder: " + runner.describe());
      assertEquals("serving_default", runner.signatureKey());
      assertEquals(List.of("encoder_input"), runner.inputKeys());
      assertEquals(List.of("model_3"), runner.outputKeys());
      Map<String, Weight> zeros = runner.run(new float[32 * 32], new long[] {1, 32, 32, 1});
      float[] out = zeros.get("model_3").data();
      assertEquals(22.17119, sum(out), 1e-3);
      assertEquals(0.3270271, max(out), 1e-6);
      assertEquals(0.002414632, out[0], 1e-8);
      float[] p = runner.run(pattern(), new long[] {1, 32, 32, 1}).get("model_3").data();
      assertEquals(371.4917, sum(p), 1e-2);
      assertEquals(0.8205209, max(p), 1e-6);
      float[] ones = new float[32 * 32];
      Arrays.fill(ones, 1f);
      assertEquals(533.7187, sum(runner.run(ones, new long[] {1, 32, 32, 1}).get("model_3").data()), 1e-2);
    }
  }

  @Test
  void vaeEncoderOutputsAreMappedByKeyNotPosition() {
    try (SavedModelRunner runner = SavedModelRunner.open(Fixtures.savedModel("fashion_vae_encoder"))) {
      System.out.println("fashion_vae_encoder: " + runner.describe());
      assertEquals(List.of("sampling_3", "z_log_var", "z_mean"), runner.outputKeys());
      Map<String, Weight> out = runner.run(new float[32 * 32], new long[] {1, 32, 32, 1});
      float[] mean = out.get("z_mean").data();
      float[] logVar = out.get("z_log_var").data();
      assertEquals(1.761550, mean[0], 1e-5);
      assertEquals(1.553000, mean[1], 1e-5);
      assertEquals(-3.925201, logVar[0], 1e-5);
      assertEquals(-4.005765, logVar[1], 1e-5);
      float[] p = runner.run(pattern(), new long[] {1, 32, 32, 1}).get("z_mean").data();
      assertEquals(-1.055205, p[0], 1e-5);
      assertEquals(-0.3625929, p[1], 1e-5);
      float[] z = out.get("sampling_3").data();
      for (int i = 0; i < 2; i++) {
        assertTrue(Math.abs(z[i] - mean[i]) < 4 * Math.exp(0.5 * logVar[i]), "z is a sample around z_mean");
      }
    }
  }

  @Test
  void everySharedSavedModelLoadsAndReportsItsSignature() throws java.io.IOException {
    java.nio.file.Path root = Fixtures.shared().resolve("savedmodels");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isDirectory(root), "no " + root);
    List<java.nio.file.Path> dirs;
    try (var list = java.nio.file.Files.list(root)) {
      dirs = list.filter(d -> java.nio.file.Files.isRegularFile(d.resolve("saved_model.pb"))).sorted().toList();
    }
    assertTrue(!dirs.isEmpty(), "no SavedModel in " + root);
    for (java.nio.file.Path dir : dirs) {
      try (SavedModelRunner runner = SavedModelRunner.open(dir)) {
        System.out.println(dir.getFileName() + ": " + runner.describe());
        long[] in = runner.shape(runner.inputKeys().get(0)).clone();
        in[0] = 1;
        int n = 1;
        for (long d : in) {
          n *= (int) d;
        }
        Map<String, Weight> out = runner.run(new float[n], in);
        assertEquals(runner.outputKeys(), List.copyOf(out.keySet()));
        out.forEach((k, w) -> assertTrue(w.firstNonFinite() < 0, dir + " " + k + " is finite"));
      }
    }
  }

  @Test
  void kerasSavedModelWeightsAreNotImportedSilently() {
    java.nio.file.Path dir = Fixtures.savedModel("fashion_autoencoder");
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> dev.bss.interop.ModelFiles.load(dir));
    assertTrue(e.getMessage().contains("cannot be mapped to the network"), e.getMessage());
  }

  @Test
  void wrongInputShapeIsNamed() {
    try (SavedModelRunner runner = SavedModelRunner.open(Fixtures.savedModel("fashion_autoencoder"))) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> runner.run(new float[28 * 28], new long[] {1, 28, 28, 1}));
      assertTrue(e.getMessage().contains("expects shape [-1, 32, 32, 1], found [1, 28, 28, 1]"), e.getMessage());
    }
  }
}
