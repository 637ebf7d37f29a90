package dev.bss.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bss.interop.numpy.Npy;
import dev.bss.model.Weight;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MixtureGeneratorTest {

  private static Datasets data;

  @BeforeAll
  static void load() {
    data = DataSource.embedded();
  }

  /** Batch {@code k} of {@code generator} in a new batch of {@code size}; the caller closes it. */
  private static Batch filled(MixtureGenerator generator, long k, int size) {
    Batch batch = Batch.allocate(size);
    generator.fill(k, batch);
    return batch;
  }

  @Test
  void mixtureIsTheAverageOfItsTargetsAndTargetsAreTheDrawnImages() {
    MixtureGenerator generator = data.trainMixtures(3);
    MixtureGenerator.Draw draw = generator.draw(0, 64);
    try (Batch batch = filled(generator, 0, 64)) {
      assertEquals(64, batch.size());
      float[] mixture = batch.mixtureValues();
      float[] mnistTarget = batch.mnistValues();
      float[] fashionTarget = batch.fashionValues();
      for (int s = 0; s < batch.size(); s++) {
        float[] mnist = data.mnistTrain().toFloats(draw.mnist()[s], 1);
        float[] fashion = data.fashionTrain().toFloats(draw.fashion()[s], 1);
        assertArrayEquals(mnist, Arrays.copyOfRange(mnistTarget, s * 1024, (s + 1) * 1024));
        assertArrayEquals(fashion, Arrays.copyOfRange(fashionTarget, s * 1024, (s + 1) * 1024));
        for (int p = 0; p < 1024; p++) {
          float m = mnist[p];
          float f = fashion[p];
          float x = mixture[s * 1024 + p];
          // Exactly the fixtures' float64 average rounded once; within half an ulp of the float32 average.
          assertEquals((float) ((m + (double) f) / 2.0), x, Math.ulp(x), "sample " + s + " pixel " + p);
          assertTrue(x >= 0f && x <= 1f);
          assertEquals(MixtureGenerator.mixed(Math.round(m * 255), Math.round(f * 255)), x);
        }
      }
    }
  }

  @Test
  void matchesTheKerasFixtureMixturesBitForBit() {
    Path tiny = Path.of(System.getProperty("bss.shared", "../../shared"), "keras-reference/tiny");
    assumeTrue(Files.isRegularFile(tiny.resolve("inputs.npy")), "needs the Keras fixtures at " + tiny);
    Weight inputs = Npy.readFloats(tiny.resolve("inputs.npy"));
    Weight mnist = Npy.readFloats(tiny.resolve("targets_mnist.npy"));
    Weight fashion = Npy.readFloats(tiny.resolve("targets_fashion.npy"));
    for (int i = 0; i < inputs.size(); i++) {
      int a = Math.round(mnist.data()[i] * 255);
      int b = Math.round(fashion.data()[i] * 255);
      assertEquals(mnist.data()[i], ImageSet.scaled(a), "mnist target " + i);
      assertEquals(fashion.data()[i], ImageSet.scaled(b), "fashion target " + i);
      assertEquals(inputs.data()[i], MixtureGenerator.mixed(a, b), "mixture " + i);
    }
  }

  @Test
  void sameSeedSameBatchesDifferentSeedDifferentBatches() {
    MixtureGenerator one = data.trainMixtures(11);
    MixtureGenerator two = data.trainMixtures(11);
    MixtureGenerator other = data.trainMixtures(12);
    for (int k = 0; k < 3; k++) {
      try (Batch a = filled(one, k, 32); Batch b = filled(two, k, 32); Batch c = filled(other, k, 32)) {
        assertArrayEquals(a.mixtureValues(), b.mixtureValues());
        assertArrayEquals(a.mnistValues(), b.mnistValues());
        assertArrayEquals(a.fashionValues(), b.fashionValues());
        assertFalse(Arrays.equals(a.mixtureValues(), c.mixtureValues()));
      }
    }
    try (Batch first = filled(one, 0, 32); Batch second = filled(one, 1, 32)) {
      assertFalse(Arrays.equals(first.mixtureValues(), second.mixtureValues()), "consecutive batches differ");
    }
  }

  @Test
  void batchKDependsOnlyOnTheSeedAndK() {
    // What lets a resumed run (or a fresh generator) draw batch k again without replaying batches 0..k-1.
    MixtureGenerator original = data.trainMixtures(5);
    float[][] sequence = new float[4][];
    try (Batch batch = Batch.allocate(16)) {
      for (int k = 0; k < 4; k++) {
        original.fill(k, batch);
        sequence[k] = batch.mixtureValues();
      }
    }
    MixtureGenerator resumed = data.trainMixtures(5);
    try (Batch third = filled(resumed, 2, 16); Batch fourth = filled(resumed, 3, 16)) {
      assertArrayEquals(sequence[2], third.mixtureValues());
      assertArrayEquals(sequence[3], fourth.mixtureValues());
    }
    MixtureGenerator.Draw again = resumed.draw(3, 16);
    assertArrayEquals(original.draw(3, 16).mnist(), again.mnist());
    assertArrayEquals(original.draw(3, 16).fashion(), again.fashion());
  }

  @Test
  void theFedTensorsHoldWhatTheGeneratorWrote() {
    // One write: the generator's values are in the tensors the training step feeds, with no copy in between.
    MixtureGenerator generator = data.trainMixtures(9);
    MixtureGenerator.Draw draw = generator.draw(1, 8);
    try (Batch batch = filled(generator, 1, 8)) {
      for (int s : new int[] {0, 7}) {
        int y = 3 + s;
        int x = 20 - s;
        int mnistPixel = data.mnistTrain().paddedPixels()[draw.mnist()[s] * 1024 + y * 32 + x] & 0xFF;
        int fashionPixel = data.fashionTrain().paddedPixels()[draw.fashion()[s] * 1024 + y * 32 + x] & 0xFF;
        assertEquals(ImageSet.scaled(mnistPixel), batch.mnistTensor().getFloat(s, y, x, 0));
        assertEquals(ImageSet.scaled(fashionPixel), batch.fashionTensor().getFloat(s, y, x, 0));
        assertEquals(MixtureGenerator.mixed(mnistPixel, fashionPixel), batch.mixtureTensor().getFloat(s, y, x, 0));
      }
    }
  }

  @Test
  void indicesAreUniformAcrossSeeds() {
    // Chi-square of 10 equal index bins (9 degrees of freedom: mean 9, 0.999999 quantile 46.2) for both datasets
    // over 10 seeds; a single seed exceeds the 0.999 quantile (27.9) one time in a thousand, so we bound the mean.
    double total = 0;
    int count = 0;
    for (long seed = 1; seed <= 10; seed++) {
      MixtureGenerator generator = data.trainMixtures(seed);
      long[] mnistBins = new long[10];
      long[] fashionBins = new long[10];
      for (int k = 0; k < 40; k++) {
        MixtureGenerator.Draw draw = generator.draw(k, 256);
        for (int s = 0; s < 256; s++) {
          mnistBins[(int) ((long) draw.mnist()[s] * 10 / data.mnistTrain().size())]++;
          fashionBins[(int) ((long) draw.fashion()[s] * 10 / data.fashionTrain().size())]++;
        }
      }
      for (long[] bins : new long[][] {mnistBins, fashionBins}) {
        double chi = chiSquare(bins, 40 * 256);
        assertTrue(chi < 46.2, "seed " + seed + " index bins " + Arrays.toString(bins));
        total += chi;
        count++;
      }
    }
    // The mean of 20 chi-square(9) values is 9 with standard deviation 0.95.
    assertEquals(9, total / count, 4, "mean chi-square of the index bins");
  }

  @Test
  void indicesAreIndependentAndPixelMeansAgree() {
    ImageSet mnist = data.mnistTrain();
    ImageSet fashion = data.fashionTrain();
    MixtureGenerator generator = data.trainMixtures(2024);
    int batches = 100;
    int batchSize = 256;
    int n = batches * batchSize;
    double sumM = 0;
    double sumF = 0;
    double sumMF = 0;
    double mixtureSum = 0;
    double targetsSum = 0;
    try (Batch batch = Batch.allocate(batchSize)) {
      for (int k = 0; k < batches; k++) {
        MixtureGenerator.Draw draw = generator.draw(k, batchSize);
        generator.fill(k, batch);
        for (int s = 0; s < batchSize; s++) {
          double um = draw.mnist()[s] / (double) mnist.size() - 0.5;
          double uf = draw.fashion()[s] / (double) fashion.size() - 0.5;
          sumM += um;
          sumF += uf;
          sumMF += um * uf;
        }
        float[] mixture = batch.mixtureValues();
        float[] mnistTarget = batch.mnistValues();
        float[] fashionTarget = batch.fashionValues();
        for (int i = 0; i < batchSize * 1024; i++) {
          mixtureSum += mixture[i];
          targetsSum += mnistTarget[i] + fashionTarget[i];
        }
      }
    }
    // Uniform on [-0.5, 0.5): mean 0 with std 0.289/sqrt(n); the product's mean is 0 with std 0.083/sqrt(n).
    assertEquals(0, sumM / n, 4 * 0.289 / Math.sqrt(n));
    assertEquals(0, sumF / n, 4 * 0.289 / Math.sqrt(n));
    assertEquals(0, sumMF / n, 4 * 0.0834 / Math.sqrt(n), "mnist and fashion indices independent");
    // The mean mixture pixel is the mean of (m + f) / 2, and close to the sets' own means.
    double meanMixture = mixtureSum / (n * 1024.0);
    assertEquals(targetsSum / (2.0 * n * 1024), meanMixture, 1e-6);
    double expected = (mnist.pixelSum() / (mnist.size() * 1024.0) + fashion.pixelSum() / (fashion.size() * 1024.0))
        / 2 / 255;
    assertEquals(expected, meanMixture, 0.003, "mean mixture pixel vs (mean mnist + mean fashion) / 2");
  }

  @Test
  void tensorsHoldTheBatchWithItsShape() {
    try (Batch batch = filled(data.testMixtures(1), 0, 20)) {
      assertArrayEquals(new long[] {20, 32, 32, 1}, batch.mixtureTensor().shape().asArray());
      assertArrayEquals(new long[] {20, 32, 32, 1}, batch.fashionTensor().shape().asArray());
      float[] copy = new float[20 * 1024];
      batch.mixtureTensor().asRawTensor().data().asFloats().read(copy);
      assertArrayEquals(batch.mixtureValues(), copy);
      assertEquals(batch.mnist().getFloat(19 * 1024 + 500), batch.mnistTensor().getFloat(19, 15, 20, 0));
      assertEquals(batch.fashion().getFloat(3 * 1024 + 33), batch.fashionTensor().getFloat(3, 1, 1, 0));
    }
  }

  @Test
  void aBatchIsRewrittenInPlaceStepAfterStepAndRefusedOnceClosed() {
    MixtureGenerator generator = data.trainMixtures(4);
    Batch reused = Batch.allocate(8);
    for (int k = 0; k < 2; k++) {
      generator.fill(k, reused);
      try (Batch fresh = filled(generator, k, 8)) {
        assertArrayEquals(fresh.mixtureValues(), reused.mixtureValues());
        assertArrayEquals(fresh.fashionValues(), reused.fashionValues());
      }
    }
    reused.close();
    reused.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> generator.fill(2, reused));
    assertEquals("batch of 8 is closed", e.getMessage());
  }

  @Test
  void assemblingABatchOf256TakesMicrosecondsPerSample() {
    MixtureGenerator generator = data.trainMixtures(77);
    try (Batch batch = Batch.allocate(256)) {
      for (int k = 0; k < 200; k++) {
        generator.fill(k, batch);
      }
      int runs = 200;
      long start = System.nanoTime();
      for (int k = 0; k < runs; k++) {
        generator.fill(200 + k, batch);
      }
      double perSampleMicros = (System.nanoTime() - start) / 1e3 / runs / 256;
      System.out.printf("mixture batch of 256: %.3f ms per batch, %.2f us per sample%n", perSampleMicros * 256 / 1e3,
          perSampleMicros);
      // The requirement is "well under a millisecond per sample"; measured 2-3 us once compiled, written straight into
      // the tensors' memory. 100 us leaves room for CI.
      assertTrue(perSampleMicros < 100, "batch assembly took " + perSampleMicros + " us per sample");
    }
  }

  @Test
  void rejectsBadSizes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Batch.allocate(0));
    assertEquals("batch size must be 1..2097151, found 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> data.trainMixtures(1).draw(0, -1));
    assertEquals("batch size must be positive, found -1", e.getMessage());
  }

  private static double chiSquare(long[] bins, int n) {
    double expected = n / (double) bins.length;
    double chi = 0;
    for (long count : bins) {
      chi += (count - expected) * (count - expected) / expected;
    }
    return chi;
  }
}
