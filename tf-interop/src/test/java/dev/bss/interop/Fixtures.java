package dev.bss.interop;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the Keras fixtures and Keras-made SavedModels for tests; assumptions say what is missing. */
public final class Fixtures {

  private Fixtures() {}

  /** {@code ../shared} (system property {@code bss.shared}). */
  public static Path shared() {
    String s = System.getProperty("bss.shared");
    Path p = s == null ? Path.of("..", "..", "shared") : Path.of(s);
    return p.toAbsolutePath().normalize();
  }

  /**
   * A Keras reference fixture folder ({@code tiny} or {@code full}): the copy in {@code test-data/keras-reference}
   * when present, else {@code ../shared/keras-reference}; the test is skipped when neither exists.
   */
  public static Path kerasReference(String name) {
    String root = System.getProperty("bss.root");
    if (root != null) {
      Path local = Path.of(root, "test-data", "keras-reference", name);
      if (Files.isRegularFile(local.resolve("variables.json")) && Files.isRegularFile(local.resolve("reference.keras"))) {
        return local;
      }
    }
    Path p = shared().resolve("keras-reference").resolve(name);
    assumeTrue(Files.isRegularFile(p.resolve("variables.json")),
        "Keras fixture '" + name + "' not found (test-data/keras-reference/" + name + " or " + p + ")");
    return p;
  }

  /** {@code ../shared/savedmodels/<name>}; the test is skipped when it is absent. */
  public static Path savedModel(String name) {
    Path p = shared().resolve("savedmodels").resolve(name);
    assumeTrue(Files.isRegularFile(p.resolve("saved_model.pb")), "Keras-made SavedModel not found: " + p);
    return p;
  }
}
