package dev.bss.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.interop.numpy.NpyArray;
import dev.bss.interop.numpy.Npz;
import dev.bss.train.data.Batch;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PairsDataset}: Keras fit's batching (smaller last batch), seeded shuffling, uint8 scaling, validation. */
class PairsDatasetTest {

  /** A file of {@code n} uint8 pairs whose pair i has every inputs pixel i, decoded1 2i, decoded2 3i. */
  private static Path file(Path dir, int n) {
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    int px = TrainingGraph.PIXELS;
    for (int k = 1; k <= 3; k++) {
      byte[] bytes = new byte[n * px];
      for (int i = 0; i < n; i++) {
        Arrays.fill(bytes, i * px, (i + 1) * px, (byte) (k * i));
      }
      String key = List.of("inputs", "decoded1", "decoded2").get(k - 1);
      arrays.put(key, new NpyArray(key, "|u1", new long[] {n, 32, 32, 1}, bytes));
    }
    Path f = dir.resolve("pairs.npz");
    Npz.write(f, arrays);
    return f;
  }

  private static int[] epochOrder(PairsDataset d, long seed, int batch) {
    PairData.BatchStream stream = d.training(seed);
    int[] seen = new int[d.size()];
    int k = 0;
    for (int step = 0; step < d.stepsPerEpoch(); step++) {
      try (Batch b = Batch.allocate(d.samplesInStep(step, batch))) {
        stream.fill(b);
        for (int i = 0; i < b.size(); i++) {
          int pair = Math.round(b.mixture().getFloat(i * TrainingGraph.PIXELS) * 255f);
          assertEquals(2 * pair / 255f, b.mnist().getFloat(i * TrainingGraph.PIXELS), 0f);
          assertEquals(3 * pair / 255f, b.fashion().getFloat(i * TrainingGraph.PIXELS + 17), 0f);
          seen[k++] = pair;
        }
      }
    }
    assertEquals(d.size(), k);
    return seen;
  }

  @Test
  void onePassPerEpochWithASmallerLastBatch(@TempDir Path tmp) {
    PairsDataset d = PairsDataset.load(file(tmp, 10), 4, false, null);
    assertEquals(3, d.stepsPerEpoch());
    assertEquals(List.of(4, 4, 2), List.of(d.samplesInStep(0, 4), d.samplesInStep(1, 4), d.samplesInStep(2, 4)));
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, epochOrder(d, 1, 4));
    assertTrue(d.description().contains("the last of 2"), d.description());
  }

  @Test
  void shuffleIsAPermutationPerEpochReproducibleFromTheSeed(@TempDir Path tmp) {
    PairsDataset d = PairsDataset.load(file(tmp, 40), 16, true, null);
    int[] a = epochOrder(d, Trainer.epochDataSeed(1, 0), 16);
    int[] sorted = a.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < sorted.length; i++) {
      assertEquals(i, sorted[i]);
    }
    assertArrayEquals(a, epochOrder(d, Trainer.epochDataSeed(1, 0), 16));
    assertFalse(Arrays.equals(a, epochOrder(d, Trainer.epochDataSeed(1, 1), 16)));
  }

  @Test
  void provenanceNamesTheFileByItsContent(@TempDir Path tmp) {
    Path f = file(tmp, 10);
    PairsDataset d = PairsDataset.load(f, 4, true, null);
    Map<String, Object> provenance = d.provenance();
    assertEquals(d.description(), provenance.get("source"));
    Map<?, ?> pairs = (Map<?, ?>) provenance.get("pairs");
    assertEquals(InitWeights.sha256(f), pairs.get("sha256"));
    assertEquals(10, pairs.get("pairs"));
    assertEquals(true, pairs.get("shuffle"));
  }

  @Test
  void refusesMismatchedCounts(@TempDir Path tmp) {
    Map<String, NpyArray> arrays = new LinkedHashMap<>(Npz.read(file(tmp, 3)));
    arrays.put("decoded2", new NpyArray("d", "<f4", new long[] {2, 32, 32, 1}, new byte[2 * 1024 * 4]));
    Path f = tmp.resolve("bad.npz");
    Npz.write(f, arrays);
    var e = assertThrows(IllegalArgumentException.class, () -> PairsDataset.load(f, 4, true, null));
    assertTrue(e.getMessage().startsWith("--pairs " + f + ": expected the same N"), e.getMessage());
  }
}
