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
import org.tensorflow.types.TFloat32;

class MixtureGeneratorTest {

  private static Datasets data;

  @BeforeAll
  static void load() {
    data = DataSource.embedded();
  }

  @Test
  void mixtureIsTheAverageOfItsTargetsAndTargetsAreTheDrawnImages() {
    MixtureBatch batch = data.trainMixtures(3).next(64);
    assertEquals(64, batch.size());
    float[] mixture = batch.mixture();
    for (int s = 0; s < batch.size(); s++) {
      float[] mnist = data.mnistTrain().toFloats(batch.mnistIndex(s), 1);
      float[] fashion = data.fashionTrain().toFloats(batch.fashionIndex(s), 1);
      assertArrayEquals(mnist, Arrays.copyOfRange(batch.mnistTarget(), s * 1024, (s + 1) * 1024));
      assertArrayEquals(fashion, Arrays.copyOfRange(batch.fashionTarget(), s * 1024, (s + 1) * 1024));
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
      MixtureBatch a = one.next(32);
      MixtureBatch b = two.next(32);
      MixtureBatch c = other.next(32);
      assertArrayEquals(a.mixture(), b.mixture());
      assertArrayEquals(a.mnistTarget(), b.mnistTarget());
      assertArrayEquals(a.fashionTarget(), b.fashionTarget());
      assertFalse(Arrays.equals(a.mixture(), c.mixture()));
      assertEquals(k, a.batchIndex());
    }
    MixtureBatch first = data.trainMixtures(11).next(32);
    MixtureBatch second = one.next(32);
    assertFalse(Arrays.equals(first.mixture(), second.mixture()), "consecutive batches differ");
  }

  @Test
  void stateRestoresTheExactContinuation() {
    MixtureGenerator original = data.trainMixtures(5);
    original.next(16);
    original.next(16);
    MixtureGenerator.State saved = original.state();
    assertEquals(new MixtureGenerator.State(5, 2), saved);
    MixtureBatch third = original.next(16);
    MixtureBatch fourth = original.next(16);

    MixtureGenerator resumed = data.trainMixtures(5);
    resumed.restore(saved);
    assertArrayEquals(third.mixture(), resumed.next(16).mixture());
    MixtureBatch reused = new MixtureBatch(16);
    resumed.nextInto(reused, 16);
    assertArrayEquals(fourth.mixture(), reused.mixture());
    assertEquals(4, resumed.batchesDrawn());

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> data.trainMixtures(6).restore(saved));
    assertEquals("generator state has seed 5, this generator 6", e.getMessage());
  }

  @Test
  void prefetcherGivesTheSameSequenceAndAdvancesTheGenerator() {
    MixtureGenerator plain = data.trainMixtures(9);
    MixtureGenerator background = data.trainMixtures(9);
    plain.next(8);
    background.next(8);
    try (MixturePrefetcher prefetcher = background.prefetch(8, 2)) {
      for (int k = 1; k <= 5; k++) {
        MixtureBatch expected = plain.next(8);
        MixtureBatch got = prefetcher.take();
        assertEquals(k, got.batchIndex());
        assertArrayEquals(expected.mixture(), got.mixture());
        assertArrayEquals(expected.fashionTarget(), got.fashionTarget());
        assertEquals(k + 1, background.batchesDrawn(), "state counts only batches taken");
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
      MixtureBatch batch = new MixtureBatch(256);
      for (int k = 0; k < 40; k++) {
        generator.nextInto(batch, 256);
        for (int s = 0; s < 256; s++) {
          mnistBins[(int) ((long) batch.mnistIndex(s) * 10 / data.mnistTrain().size())]++;
          fashionBins[(int) ((long) batch.fashionIndex(s) * 10 / data.fashionTrain().size())]++;
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
    MixtureBatch batch = new MixtureBatch(batchSize);
    for (int k = 0; k < batches; k++) {
      generator.nextInto(batch, batchSize);
      for (int s = 0; s < batchSize; s++) {
        double um = batch.mnistIndex(s) / (double) mnist.size() - 0.5;
        double uf = batch.fashionIndex(s) / (double) fashion.size() - 0.5;
        sumM += um;
        sumF += uf;
        sumMF += um * uf;
      }
      for (int i = 0; i < batchSize * 1024; i++) {
        mixtureSum += batch.mixture()[i];
        targetsSum += batch.mnistTarget()[i] + batch.fashionTarget()[i];
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
    MixtureBatch batch = new MixtureBatch(32);
    data.testMixtures(1).fill(0, 20, batch);
    try (TFloat32 mixture = batch.mixtureTensor(); TFloat32 mnist = batch.mnistTargetTensor();
        TFloat32 fashion = batch.fashionTargetTensor()) {
      assertArrayEquals(new long[] {20, 32, 32, 1}, mixture.shape().asArray());
      assertArrayEquals(new long[] {20, 32, 32, 1}, fashion.shape().asArray());
      float[] copy = new float[20 * 1024];
      mixture.asRawTensor().data().asFloats().read(copy);
      assertArrayEquals(Arrays.copyOf(batch.mixture(), 20 * 1024), copy);
      assertEquals(batch.mnistTarget()[19 * 1024 + 500], mnist.getFloat(19, 15, 20, 0));
      assertEquals(batch.fashionTarget()[3 * 1024 + 33], fashion.getFloat(3, 1, 1, 0));
    }
  }

  @Test
  void copiesIntoReusedTensors() {
    MixtureGenerator generator = data.trainMixtures(4);
    try (TFloat32 mixture = TFloat32.tensorOf(MixtureBatch.shape(8));
        TFloat32 mnist = TFloat32.tensorOf(MixtureBatch.shape(8));
        TFloat32 fashion = TFloat32.tensorOf(MixtureBatch.shape(8))) {
      for (int k = 0; k < 2; k++) {
        MixtureBatch batch = generator.next(8);
        batch.copyInto(mixture, mnist, fashion);
        float[] copy = new float[8 * 1024];
        fashion.asRawTensor().data().asFloats().read(copy);
        assertArrayEquals(batch.fashionTarget(), copy);
        assertEquals(batch.mixture()[7 * 1024 + 1023], mixture.getFloat(7, 31, 31, 0));
        assertEquals(batch.mnistTarget()[5 * 1024 + 300], mnist.getFloat(5, 9, 12, 0));
      }
      MixtureBatch small = generator.next(4);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> small.copyInto(mixture, mnist, fashion));
      assertEquals("mixture tensor: expected shape [4, 32, 32, 1], found [8, 32, 32, 1]", e.getMessage());
    }
  }

  @Test
  void assemblingABatchOf256TakesMicrosecondsPerSample() {
    MixtureGenerator generator = data.trainMixtures(77);
    MixtureBatch batch = new MixtureBatch(256);
    for (int k = 0; k < 50; k++) {
      generator.nextInto(batch, 256);
    }
    int runs = 200;
    long start = System.nanoTime();
    for (int k = 0; k < runs; k++) {
      generator.nextInto(batch, 256);
    }
    double perSampleMicros = (System.nanoTime() - start) / 1e3 / runs / 256;
    System.out.printf("mixture batch of 256: %.3f ms per batch, %.2f us per sample%n", perSampleMicros * 256 / 1e3,
        perSampleMicros);
    // The requirement is "well under a millisecond per sample"; measured about 1.2 us. 100 us leaves room for CI.
    assertTrue(perSampleMicros < 100, "batch assembly took " + perSampleMicros + " us per sample");
  }

  @Test
  void rejectsBadSizes() {
    MixtureGenerator generator = data.trainMixtures(1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> generator.fill(0, 9, new MixtureBatch(8)));
    assertEquals("batch size must be 1..8, found 9", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new MixtureBatch(0));
    assertThrows(IllegalArgumentException.class, () -> generator.skipTo(-1));
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
