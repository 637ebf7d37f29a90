package dev.bss.train.loop;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bss.interop.ModelFiles;
import dev.bss.interop.numpy.Npz;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A case of {@code ../shared/keras-training} (real Keras 3 training runs; see its README) and the measures its README
 * states tolerances in. Tests are skipped, saying what is missing, when the folder is absent.
 */
public final class KerasTrainingCase {

  /** The attention key biases have a zero gradient in theory; the README leaves them out of relative comparisons. */
  public static final Predicate<String> COMPARED = path -> !path.endsWith("/key/bias");

  private final Path dir;

  private KerasTrainingCase(Path dir) {
    this.dir = dir;
  }

  /** {@code ../shared} (system property {@code bss.shared}). */
  public static Path shared() {
    return Path.of(System.getProperty("bss.shared", "../../shared")).toAbsolutePath().normalize();
  }

  /** {@code tiny-A}, {@code full-A} or {@code fit-A}; the test is skipped when the fixture is absent. */
  public static KerasTrainingCase open(String name) {
    Path dir = shared().resolve("keras-training").resolve(name);
    assumeTrue(Files.isRegularFile(dir.resolve("batches.npz")), "Keras training fixture not found: " + dir);
    return new KerasTrainingCase(dir);
  }

  public Path dir() {
    return dir;
  }

  public Path file(String name) {
    return dir.resolve(name);
  }

  /** The network config of the case (dropout 0). */
  public ModelConfig config() {
    return ModelFiles.readConfigJson(file("config.json"));
  }

  /** The initial weights Keras started from: {@code keras-reference/<tiny|full>/reference.weights.h5}. */
  public Path initialWeights() {
    String model = dir.getFileName().toString().startsWith("full") ? "full" : "tiny";
    Path p = shared().resolve("keras-reference").resolve(model).resolve("reference.weights.h5");
    assumeTrue(Files.isRegularFile(p), "Keras reference weights not found: " + p);
    return p;
  }

  public Path positionEmbedding() {
    return file("pos_embedding.npy");
  }

  public Map<String, Weight> npz(String name) {
    return Npz.readFloats(file(name));
  }

  public JsonObject json(String name) {
    try {
      return JsonParser.parseString(Files.readString(file(name))).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code ||a - b|| / ||b||} over one array. */
  public static double relativeL2(float[] a, float[] b) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) a[i] - b[i];
      diff += d * d;
      norm += (double) b[i] * b[i];
    }
    return Math.sqrt(diff) / Math.sqrt(norm);
  }

  /** Global {@code ||a - b|| / ||b||} over the arrays of {@code expected} with an included path. */
  public static double globalRelativeL2(Map<String, float[]> actual, Map<String, Weight> expected,
      Predicate<String> include) {
    double diff = 0;
    double norm = 0;
    for (Map.Entry<String, Weight> e : expected.entrySet()) {
      if (!include.test(e.getKey())) {
        continue;
      }
      float[] a = actual.get(e.getKey());
      float[] b = e.getValue().data();
      for (int i = 0; i < b.length; i++) {
        double d = (double) a[i] - b[i];
        diff += d * d;
        norm += (double) b[i] * b[i];
      }
    }
    return Math.sqrt(diff) / Math.sqrt(norm);
  }

  /**
   * The README's relative update error {@code ||w_port - w_keras|| / ||w_keras - w_initial||} over the variables of
   * {@code keras} with an included path (global), and the largest per-variable value.
   */
  public static double[] updateError(Map<String, Weight> port, Map<String, Weight> keras, Map<String, Weight> initial,
      Predicate<String> include) {
    double diff = 0;
    double moved = 0;
    double worst = 0;
    for (Map.Entry<String, Weight> e : keras.entrySet()) {
      if (!include.test(e.getKey())) {
        continue;
      }
      float[] p = port.get(e.getKey()).data();
      float[] k = e.getValue().data();
      float[] w0 = initial.get(e.getKey()).data();
      double d1 = 0;
      double m1 = 0;
      for (int i = 0; i < k.length; i++) {
        double d = (double) p[i] - k[i];
        double m = (double) k[i] - w0[i];
        d1 += d * d;
        m1 += m * m;
      }
      diff += d1;
      moved += m1;
      if (m1 > 0) {
        worst = Math.max(worst, Math.sqrt(d1 / m1));
      }
    }
    return new double[] {Math.sqrt(diff / moved), worst};
  }

  /** Largest element-wise {@code |a - b| / |b|} (0 where both are 0). */
  public static double maxRelative(float[] a, float[] b) {
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      double d = Math.abs((double) a[i] - b[i]);
      if (d > 0) {
        worst = Math.max(worst, d / Math.abs((double) b[i]));
      }
    }
    return worst;
  }
}
