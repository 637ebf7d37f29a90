package dev.bss.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EmbeddedDataTest {

  /**
   * Pixel and label sums of test-data/embedded, computed with NumPy 2.4.6 (see PROVENANCE.md there):
   * mnist train / test, fashion-mnist train / test.
   */
  private static final long[] PIXEL_SUMS = {262146600L, 264923200L, 572388787L, 573469082L};
  private static final long[] LABEL_SUMS = {44368L, 44434L, 45157L, 45000L};

  @Test
  void embeddedResourcesAreTheDocumentedSubset() {
    Datasets data = DataSource.embedded();
    ImageSet[] sets = {data.mnistTrain(), data.mnistTest(), data.fashionTrain(), data.fashionTest()};
    for (int i = 0; i < sets.length; i++) {
      assertEquals(10000, sets[i].size(), sets[i].name());
      assertEquals(PIXEL_SUMS[i], sets[i].pixelSum(), sets[i].name());
      assertEquals(LABEL_SUMS[i], labelSum(sets[i]), sets[i].name());
    }
    assertTrue(data.description().startsWith("embedded subset (10000 train + 10000 test"), data.description());
    assertEquals(java.util.Map.of("images", 10000, "pixel_sum", 572388787L),
        ((java.util.Map<?, ?>) data.provenance().get("sets")).get("fashion-mnist train"));
    assertEquals(data.description(), data.provenance().get("source"));
  }

  @Test
  void embeddedFilesAreSha256PinnedInProvenance() throws Exception {
    Path dir = TestFiles.embeddedDir();
    String provenance = java.nio.file.Files.readString(dir.resolve("PROVENANCE.md"));
    for (String dataset : new String[] {"mnist", "fashion-mnist"}) {
      for (String name : DataSource.IDX_FILES) {
        String sha = DataSource.sha256(dir.resolve(dataset).resolve(name));
        assertTrue(provenance.contains("`" + dataset + "/" + name + "` | ") && provenance.contains(sha),
            dataset + "/" + name + " sha256 " + sha + " not recorded in PROVENANCE.md");
      }
    }
    // The test sets are the official files unchanged, so they carry the pinned (published) sums.
    assertEquals(DataSource.PINNED_SHA256.get("t10k-images-idx3-ubyte.gz"),
        DataSource.sha256(dir.resolve("fashion-mnist/t10k-images-idx3-ubyte.gz")));
  }

  @Test
  void embeddedTrainingSubsetIsTheStartOfTheOfficialFile() {
    Path shared = TestFiles.sharedData();
    byte[] official = Idx.readImages(shared.resolve("fashion-mnist/train-images-idx3-ubyte.gz"));
    byte[] subset = Idx.readImages(TestFiles.embeddedDir().resolve("fashion-mnist/train-images-idx3-ubyte.gz"));
    assertEquals(10000 * 784, subset.length);
    assertTrue(java.util.Arrays.equals(official, 0, subset.length, subset, 0, subset.length));
  }

  private static long labelSum(ImageSet set) {
    long sum = 0;
    for (int i = 0; i < set.size(); i++) {
      sum += set.label(i);
    }
    return sum;
  }
}
