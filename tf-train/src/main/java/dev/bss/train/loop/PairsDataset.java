package dev.bss.train.loop;

import dev.bss.interop.numpy.NpyArray;
import dev.bss.interop.numpy.Npz;
import dev.bss.train.data.Batch;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * A training set given as arrays ({@code bss train --pairs FILE.npz}), trained on like Keras's
 * {@code fit(x, {"decoded1": y1, "decoded2": y2}, batch_size, shuffle)}: each epoch is one pass over the N pairs in
 * batches of the batch size, the last one smaller when N is not a multiple of it.
 *
 * <p>The file holds {@code inputs}, {@code decoded1} (MNIST targets) and {@code decoded2} (Fashion-MNIST targets),
 * float32 {@code [N, 32, 32, 1]} (or {@code [N, 32, 32]}); uint8 arrays are divided by 255. With shuffle, the order
 * of epoch {@code e} is a permutation drawn from that epoch's data seed ({@link Trainer#epochDataSeed}), so runs are
 * reproducible and a resumed run replays the orders of an uninterrupted one (Keras draws its permutation from
 * NumPy's global generator instead; the orders differ, the semantics do not). Without shuffle, file order.
 *
 * <p>Test pairs (validation, sample grid, final evaluation) still come from {@code testData}, the MNIST and
 * Fashion-MNIST test sets, which are loaded only when first needed.
 */
public final class PairsDataset implements PairData {

  /** The three arrays the file must hold. */
  public static final String INPUTS = "inputs";
  public static final String DECODED1 = "decoded1";
  public static final String DECODED2 = "decoded2";

  private final Path file;
  private final String sha256;
  private final int count;
  private final float[] inputs;
  private final float[] decoded1;
  private final float[] decoded2;
  private final boolean shuffle;
  private final int batchSize;
  private final Supplier<PairData> testData;
  private PairData test;

  private PairsDataset(Path file, String sha256, int count, float[] inputs, float[] decoded1, float[] decoded2,
      boolean shuffle, int batchSize, Supplier<PairData> testData) {
    this.file = file;
    this.sha256 = sha256;
    this.count = count;
    this.inputs = inputs;
    this.decoded1 = decoded1;
    this.decoded2 = decoded2;
    this.shuffle = shuffle;
    this.batchSize = batchSize;
    this.testData = testData;
  }

  /**
   * Reads and validates a pairs file (keys, shapes, dtypes, finite values, N >= 1).
   *
   * @param testData where test pairs come from when needed (called at most once; may be null when none are needed)
   * @throws IllegalArgumentException one line starting with {@code --pairs} naming the file, what was expected and
   *     what was found
   */
  public static PairsDataset load(Path file, int batchSize, boolean shuffle, Supplier<PairData> testData) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("--batch-size: expected a positive integer, found " + batchSize);
    }
    String where = "--pairs " + file;
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(where + ": no such file (expected an .npz with inputs, decoded1, decoded2)");
    }
    Map<String, NpyArray> arrays;
    try {
      arrays = Npz.read(file);
    } catch (UncheckedIOException | IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": not a readable .npz archive (" + e.getMessage() + ")", e);
    }
    for (String key : new String[] {INPUTS, DECODED1, DECODED2}) {
      if (!arrays.containsKey(key)) {
        throw new IllegalArgumentException(where + ": expected arrays inputs, decoded1 and decoded2, found "
            + arrays.keySet() + " (no '" + key + "')");
      }
    }
    long n = -1;
    float[][] values = new float[3][];
    String[] keys = {INPUTS, DECODED1, DECODED2};
    for (int k = 0; k < 3; k++) {
      NpyArray a = arrays.get(keys[k]);
      long[] s = a.shape();
      boolean imageShape = (s.length == 4 && s[1] == 32 && s[2] == 32 && s[3] == 1)
          || (s.length == 3 && s[1] == 32 && s[2] == 32);
      if (!imageShape) {
        throw new IllegalArgumentException(where + ": '" + keys[k] + "' expected shape [N, 32, 32, 1], found "
            + Arrays.toString(s));
      }
      if (n < 0) {
        n = s[0];
      } else if (s[0] != n) {
        throw new IllegalArgumentException(where + ": expected the same N in inputs, decoded1 and decoded2, found "
            + arrays.get(INPUTS).shape()[0] + ", " + arrays.get(DECODED1).shape()[0] + ", " + s[0]);
      }
      boolean uint8 = a.dtype().equals("|u1");
      if (!uint8 && !a.dtype().equals("<f4")) {
        throw new IllegalArgumentException(where + ": '" + keys[k] + "' expected dtype float32 (or uint8 0-255), found "
            + a.dtype());
      }
      float[] v = a.toWeight().data();
      if (uint8) {
        for (int i = 0; i < v.length; i++) {
          v[i] = v[i] / 255f;
        }
      }
      for (int i = 0; i < v.length; i++) {
        if (!Float.isFinite(v[i])) {
          throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: '%s' expected finite values, found %s"
              + " at pair %d, pixel %d", where, keys[k], v[i], i / TrainingGraph.PIXELS, i % TrainingGraph.PIXELS));
        }
      }
      values[k] = v;
    }
    if (n < 1) {
      throw new IllegalArgumentException(where + ": expected at least one pair, found N = " + n);
    }
    if (n > Integer.MAX_VALUE / TrainingGraph.PIXELS) {
      throw new IllegalArgumentException(where + ": expected at most " + Integer.MAX_VALUE / TrainingGraph.PIXELS
          + " pairs, found " + n);
    }
    return new PairsDataset(file, InitWeights.sha256(file), (int) n, values[0], values[1], values[2], shuffle,
        batchSize, testData);
  }

  /** Number of pairs. */
  public int size() {
    return count;
  }

  /** Steps of one epoch: {@code ceil(N / batch size)}, as Keras derives them. */
  public int stepsPerEpoch() {
    return (count + batchSize - 1) / batchSize;
  }

  public boolean shuffle() {
    return shuffle;
  }

  @Override
  public int samplesInStep(int step, int batch) {
    return Math.min(batch, count - step * batch);
  }

  /** The order of the pairs in the epoch whose data seed is {@code seed}. */
  int[] order(long seed) {
    int[] order = new int[count];
    for (int i = 0; i < count; i++) {
      order[i] = i;
    }
    if (shuffle) {
      SplittableRandom random = new SplittableRandom(seed);
      for (int i = count - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    return order;
  }

  @Override
  public BatchStream training(long seed) {
    int[] order = order(seed);
    return new BatchStream() {
      private int next;

      @Override
      public void fill(Batch batch) {
        int px = TrainingGraph.PIXELS;
        for (int i = 0; i < batch.size(); i++) {
          int pair = order[next];
          next = (next + 1) % count;
          batch.mixture().slice((long) i * px, px).write(inputs, pair * px, px);
          batch.mnist().slice((long) i * px, px).write(decoded1, pair * px, px);
          batch.fashion().slice((long) i * px, px).write(decoded2, pair * px, px);
        }
      }
    };
  }

  @Override
  public synchronized BatchStream test(long seed) {
    if (test == null) {
      if (testData == null) {
        throw new IllegalStateException("no test data for " + file);
      }
      test = testData.get();
    }
    return test.test(seed);
  }

  @Override
  public String description() {
    int steps = stepsPerEpoch();
    int last = count - (steps - 1) * batchSize;
    return String.format(Locale.ROOT, "pairs %s: %d pairs, %d steps of %d%s per epoch, %s", file, count, steps,
        batchSize, last == batchSize ? "" : " (the last of " + last + ")",
        shuffle ? "shuffled each epoch (seeded)" : "file order (--no-shuffle)");
  }

  @Override
  public Map<String, Object> provenance() {
    Map<String, Object> provenance = new LinkedHashMap<>();
    provenance.put("source", description());
    provenance.put("pairs", toMap());
    return provenance;
  }

  /** Path, SHA-256, N and order, for run.json and checkpoint state. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", file.toString());
    m.put("sha256", sha256);
    m.put("pairs", count);
    m.put("shuffle", shuffle);
    return m;
  }
}
