package dev.bss.train.serve;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fixtures and an HTTP client for the server tests. */
final class ServeFixtures {

  private ServeFixtures() {}

  static final HttpClient CLIENT = HttpClient.newHttpClient();

  /** The tiny Keras reference ({@code test-data/keras-reference/tiny/reference.keras}). */
  static Path tinyKeras() {
    Path p = Path.of(System.getProperty("bss.root", "../.."), "test-data", "keras-reference", "tiny",
        "reference.keras").toAbsolutePath().normalize();
    assumeTrue(Files.isRegularFile(p), "tiny Keras fixture not found at " + p);
    return p;
  }

  /** {@code ../shared/savedmodels/<name>}. */
  static Path sharedSavedModel(String name) {
    Path p = Path.of(System.getProperty("bss.shared", "../../shared"), "savedmodels", name).toAbsolutePath()
        .normalize();
    assumeTrue(Files.isRegularFile(p.resolve("saved_model.pb")), "Keras-made SavedModel not found: " + p);
    return p;
  }

  static ServeServer.Options options(String name, int maxBatch, long timeoutMicros) {
    return new ServeServer.Options(name, "127.0.0.1", 0, maxBatch, timeoutMicros, 1, 64 * 1024, 20_000);
  }

  static HttpResponse<String> get(URI base, String path) throws IOException, InterruptedException {
    return CLIENT.send(HttpRequest.newBuilder(base.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(URI base, String path, String body) throws IOException, InterruptedException {
    return CLIENT.send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(URI base, String path, byte[] body) throws IOException, InterruptedException {
    return CLIENT.send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "image/png")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
