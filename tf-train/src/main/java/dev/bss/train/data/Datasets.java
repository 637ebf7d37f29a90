package dev.bss.train.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The four image sets the seed's protocol uses: MNIST and Fashion-MNIST, training and test, and where they came from.
 *
 * <p>Training draws mixtures from {@code mnistTrain} x {@code fashionTrain}, evaluation from {@code mnistTest} x
 * {@code fashionTest} (SPEC "Data"; no validation split).
 *
 * @param mnistTrain MNIST training images (60,000; 10,000 in the embedded subset)
 * @param fashionTrain Fashion-MNIST training images (60,000; 10,000 in the embedded subset)
 * @param mnistTest MNIST test images (10,000)
 * @param fashionTest Fashion-MNIST test images (10,000)
 * @param description where the data came from, for logs and run provenance, e.g. {@code "/data (IDX)"}
 */
public record Datasets(ImageSet mnistTrain, ImageSet fashionTrain, ImageSet mnistTest, ImageSet fashionTest,
    String description) {

  /** A generator of training mixtures (MNIST train x Fashion train) with the given seed. */
  public MixtureGenerator trainMixtures(long seed) {
    return new MixtureGenerator(mnistTrain, fashionTrain, seed);
  }

  /** A generator of evaluation mixtures (MNIST test x Fashion test) with the given seed. */
  public MixtureGenerator testMixtures(long seed) {
    return new MixtureGenerator(mnistTest, fashionTest, seed);
  }

  /** The four sets: MNIST train, Fashion train, MNIST test, Fashion test. */
  public List<ImageSet> sets() {
    return List.of(mnistTrain, fashionTrain, mnistTest, fashionTest);
  }

  /**
   * What a run's provenance record (run.json's {@code data_provenance}) says about its data: the description and,
   * per set, the image count and the sum of its uint8 pixels (a cheap fingerprint of exactly what was loaded).
   */
  public Map<String, Object> provenance() {
    Map<String, Object> sets = new LinkedHashMap<>();
    for (ImageSet set : sets()) {
      Map<String, Object> fingerprint = new LinkedHashMap<>();
      fingerprint.put("images", set.size());
      fingerprint.put("pixel_sum", set.pixelSum());
      sets.put(set.name(), fingerprint);
    }
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("source", description);
    record.put("sets", sets);
    return record;
  }

  /** Image counts, e.g. {@code "mnist 60000/10000, fashion-mnist 60000/10000 (train/test)"}. */
  public String counts() {
    return "mnist " + mnistTrain.size() + "/" + mnistTest.size() + ", fashion-mnist " + fashionTrain.size() + "/"
        + fashionTest.size() + " (train/test)";
  }
}
