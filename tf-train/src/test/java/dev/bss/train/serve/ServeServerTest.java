package dev.bss.train.serve;

import dev.bss.train.io.PngImages;
import static dev.bss.train.serve.ServeFixtures.get;
import static dev.bss.train.serve.ServeFixtures.post;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bss.interop.SeparationResult;
import dev.bss.interop.Separator;
import dev.bss.interop.Separators;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** bss serve's HTTP API on the tiny network (a .keras file): every endpoint, both formats, every bad request. */
class ServeServerTest {

  private static Separator reference;
  private static ServedModel model;
  private static ServeServer server;
  private static URI base;

  @BeforeAll
  static void start() {
    reference = Separators.open(ServeFixtures.tinyKeras());
    model = new SeparatorServed(Separators.open(ServeFixtures.tinyKeras()));
    // A long batch timeout makes concurrent requests merge reliably on a busy machine.
    server = new ServeServer(model, ServeFixtures.options("tiny", 64, 200_000));
    base = server.uri();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
      model.close();
      reference.close();
    }
  }

  /** Mixture i of a deterministic pattern, 1024 values in [0, 1]. */
  private static float[] mixture(int i) {
    float[] m = new float[1024];
    for (int k = 0; k < m.length; k++) {
      m[k] = ((37 * k + 11 * i) % 101) / 100f;
    }
    return m;
  }

  private static String nested(float[] m) {
    StringBuilder sb = new StringBuilder("[");
    for (int y = 0; y < 32; y++) {
      sb.append(y == 0 ? "[" : ", [");
      for (int x = 0; x < 32; x++) {
        sb.append(x == 0 ? "[" : ", [").append(m[y * 32 + x]).append(']');
      }
      sb.append(']');
    }
    return sb.append(']').toString();
  }

  private static float[] flat(com.google.gson.JsonElement e) {
    List<Float> values = new ArrayList<>();
    flatten(e, values);
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  private static void flatten(com.google.gson.JsonElement e, List<Float> out) {
    if (e.isJsonArray()) {
      e.getAsJsonArray().forEach(x -> flatten(x, out));
    } else {
      out.add(e.getAsFloat());
    }
  }

  private static JsonObject json(HttpResponse<String> r) {
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  private static void assertError(HttpResponse<String> r, int status, String... parts) {
    assertEquals(status, r.statusCode(), r.body());
    JsonObject o = json(r);
    assertEquals(1, o.size(), r.body());
    String error = o.get("error").getAsString();
    for (String p : parts) {
      assertTrue(error.contains(p), "expected '" + p + "' in " + error);
    }
  }

  @Test
  void statusAndMetadataFollowTfServing() throws Exception {
    JsonObject status = json(get(base, "/v1/models/tiny"));
    JsonObject v = status.getAsJsonArray("model_version_status").get(0).getAsJsonObject();
    assertEquals("1", v.get("version").getAsString());
    assertEquals("AVAILABLE", v.get("state").getAsString());
    assertEquals("OK", v.getAsJsonObject("status").get("error_code").getAsString());
    assertEquals(200, get(base, "/v1/models/tiny/versions/1").statusCode());

    JsonObject meta = json(get(base, "/v1/models/tiny/metadata"));
    assertEquals("tiny", meta.getAsJsonObject("model_spec").get("name").getAsString());
    JsonObject sig = meta.getAsJsonObject("metadata").getAsJsonObject("signature_def")
        .getAsJsonObject("signature_def").getAsJsonObject("serving_default");
    assertEquals("tensorflow/serving/predict", sig.get("method_name").getAsString());
    JsonObject input = sig.getAsJsonObject("inputs").getAsJsonObject("input_img");
    assertEquals("DT_FLOAT", input.get("dtype").getAsString());
    JsonArray dims = input.getAsJsonObject("tensor_shape").getAsJsonArray("dim");
    assertEquals("-1", dims.get(0).getAsJsonObject().get("size").getAsString());
    assertEquals("32", dims.get(1).getAsJsonObject().get("size").getAsString());
    assertTrue(sig.getAsJsonObject("outputs").has("decoded1") && sig.getAsJsonObject("outputs").has("decoded2"));
  }

  @Test
  void rowAndColumnarFormatsGiveTheModelsOutputsByName() throws Exception {
    float[] a = mixture(1);
    float[] b = mixture(2);
    float[] both = new float[2048];
    System.arraycopy(a, 0, both, 0, 1024);
    System.arraycopy(b, 0, both, 1024, 1024);
    SeparationResult expected = reference.separate(both, 2);

    JsonObject row = json(post(base, "/v1/models/tiny:predict", "{\"signature_name\": \"serving_default\", "
        + "\"instances\": [" + nested(a) + ", " + nested(b) + "]}"));
    JsonArray predictions = row.getAsJsonArray("predictions");
    assertEquals(2, predictions.size());
    float[] d1 = new float[2048];
    float[] d2 = new float[2048];
    for (int i = 0; i < 2; i++) {
      JsonObject p = predictions.get(i).getAsJsonObject();
      assertEquals(2, p.size(), "one entry per output");
      System.arraycopy(flat(p.get("decoded1")), 0, d1, i * 1024, 1024);
      System.arraycopy(flat(p.get("decoded2")), 0, d2, i * 1024, 1024);
    }
    assertArrayEquals(expected.decoded1(), d1, 1e-6f);
    assertArrayEquals(expected.decoded2(), d2, 1e-6f);

    JsonObject columnar = json(post(base, "/v1/models/tiny/versions/1:predict", "{\"inputs\": {\"input_img\": ["
        + nested(a) + ", " + nested(b) + "]}}"));
    JsonObject outputs = columnar.getAsJsonObject("outputs");
    assertArrayEquals(expected.decoded1(), flat(outputs.get("decoded1")), 1e-6f);
    assertArrayEquals(expected.decoded2(), flat(outputs.get("decoded2")), 1e-6f);
    // The plain-value columnar form (one input) works too.
    JsonObject plain = json(post(base, "/v1/models/tiny:predict", "{\"inputs\": [" + nested(a) + "]}"));
    assertArrayEquals(java.util.Arrays.copyOf(expected.decoded1(), 1024),
        flat(plain.getAsJsonObject("outputs").get("decoded1")), 1e-5f, "batch 1 vs batch 2 (kernels may differ)");
  }

  @Test
  void concurrentRequestsAreBatchedAndSplitBack() throws Exception {
    long batchesBefore = server.metrics().batches();
    long rowsBefore = server.metrics().batchedRows();
    int n = 12;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<HttpResponse<String>>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String body = "{\"instances\": [" + nested(mixture(10 + i)) + "]}";
        futures.add(pool.submit(() -> post(base, "/v1/models/tiny:predict", body)));
      }
      for (int i = 0; i < n; i++) {
        HttpResponse<String> r = futures.get(i).get();
        assertEquals(200, r.statusCode(), r.body());
        float[] got = flat(json(r).getAsJsonArray("predictions").get(0).getAsJsonObject().get("decoded1"));
        assertArrayEquals(reference.separate(mixture(10 + i), 1).decoded1(), got, 1e-5f, "request " + i);
      }
    } finally {
      pool.shutdownNow();
    }
    long batches = server.metrics().batches() - batchesBefore;
    assertEquals(n, server.metrics().batchedRows() - rowsBefore);
    assertTrue(batches < n, n + " concurrent requests ran in " + batches + " session runs (no batching)");
  }

  @Test
  void separateTakesAPngAndReturnsBothImages() throws Exception {
    float[] m = mixture(3);
    byte[] png = PngImages.grayPng(m, 0);
    HttpResponse<String> r = post(base, "/v1/separate", png);
    assertEquals(200, r.statusCode(), r.body());
    JsonObject o = json(r);
    float[] expected = reference.separate(PngImages.readMixture(png, "body"), 1).decoded1();
    float[] got = PngImages.readMixture(Base64.getDecoder().decode(o.get("decoded1").getAsString()), "decoded1");
    for (int k = 0; k < 1024; k++) {
      assertEquals(Math.round(Math.max(0, Math.min(1, expected[k])) * 255) / 255f, got[k], 1.01f / 255, "pixel " + k);
    }
    assertTrue(o.has("decoded2") && o.has("mixture"));
    // A 28x28 PNG is padded to 32x32.
    java.awt.image.BufferedImage small = new java.awt.image.BufferedImage(28, 28,
        java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(small, "png", bytes);
    assertEquals(200, post(base, "/v1/separate", bytes.toByteArray()).statusCode());
    assertError(post(base, "/v1/separate", new byte[] {1, 2, 3}), 400, "expected a PNG");
    java.awt.image.BufferedImage big = new java.awt.image.BufferedImage(64, 64,
        java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    bytes.reset();
    javax.imageio.ImageIO.write(big, "png", bytes);
    assertError(post(base, "/v1/separate", bytes.toByteArray()), 400, "body: expected a 32x32 (or 28x28) image, found 64x64");
  }

  @Test
  void opsEndpointsAndPage() throws Exception {
    HttpResponse<String> health = get(base, "/healthz");
    assertEquals(200, health.statusCode());
    assertEquals("ok", json(health).get("status").getAsString());
    HttpResponse<String> page = get(base, "/");
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    assertTrue(page.body().contains("/v1/separate") && page.body().contains("tiny"));
    assertEquals(8, json(get(base, "/v1/samples")).getAsJsonArray("samples").size());
    post(base, "/v1/models/nope:predict", "{}");
    HttpResponse<String> metrics = get(base, "/metrics");
    assertEquals(200, metrics.statusCode());
    String text = metrics.body();
    assertTrue(text.contains("# TYPE bss_serve_requests_total counter"), text);
    assertTrue(text.contains("bss_serve_requests_total{endpoint=\"healthz\",code=\"200\"}"), text);
    assertTrue(text.contains("bss_serve_errors_total{endpoint=\"predict\"}"), text);
    assertTrue(text.contains("bss_serve_batch_size_bucket{le=\"+Inf\"}"), text);
    assertTrue(text.contains("bss_serve_request_duration_seconds_count"), text);
  }

  @Test
  void badRequestsGetTfServingErrorsAndTheServerKeepsServing() throws Exception {
    String ok = "{\"instances\": [" + nested(mixture(0)) + "]}";
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [1, 2"), 400, "JSON Parse error");
    assertError(post(base, "/v1/models/tiny:predict", ""), 400, "JSON Parse error: The document is empty");
    assertError(post(base, "/v1/models/tiny:predict", "[1, 2]"), 400, "Is not object");
    assertError(post(base, "/v1/models/tiny:predict", "{\"foo\": 1}"), 400, "Missing 'inputs' or 'instances' key");
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [], \"inputs\": []}"), 400,
        "expecting only one of 'inputs' or 'instances' keys to exist");
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": []}"), 400, "No values in 'instances' array");
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": 3}"), 400, "to be an list/array");
    assertError(post(base, "/v1/models/tiny:predict", "{\"signature_name\": 7, \"instances\": [1]}"), 400,
        "'signature_name' key must be a string value");
    assertError(post(base, "/v1/models/tiny:predict", "{\"signature_name\": \"nope\", \"instances\": [1]}"), 400,
        "Serving signature name: \"nope\" not found in signature def");
    // wrong shapes
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [[1.0, 2.0]]}"), 400,
        "the signature expects shape [-1,32,32,1]", "[1,2]");
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [[1.0, 2.0], [1.0]]}"), 400,
        "Failed to process element: 1 of 'instances' list", "Expecting tensor size: 2 but got: 1");
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [[[1.0], 2.0]]}"), 400,
        "found at incorrect level");
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [\"abc\"]}"), 400,
        "JSON Value: \"abc\" Type: String is not of expected type: float");
    // NaN, Infinity and values beyond float
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [[NaN]]}"), 400, "NaN");
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [[1e999]]}"), 400, "not a finite number");
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [[1e39]]}"), 400,
        "to float without loss of precision");
    // unknown model, version, verb and path
    assertError(post(base, "/v1/models/other:predict", ok), 404, "Servable not found for request: Latest(other)");
    assertError(post(base, "/v1/models/tiny/versions/2:predict", ok), 404, "Specific(tiny, 2)");
    assertError(get(base, "/v1/models/other"), 404, "Could not find any versions of model other");
    assertError(get(base, "/v1/models/other/metadata"), 404, "Servable not found");
    assertError(post(base, "/v1/models/tiny:classify", "{}"), 400, ":predict only");
    assertError(get(base, "/v1/models/tiny:predict"), 400, "Malformed request: GET /v1/models/tiny:predict");
    assertError(get(base, "/nothing"), 404, "Not found");
    // oversized body (the test server's limit is 64 KiB), declared and streamed
    assertError(post(base, "/v1/models/tiny:predict", "{\"instances\": [" + "0.5, ".repeat(20_000) + "0.5]}"), 413,
        "exceeds the limit of 65536 bytes");
    byte[] big = ("{\"instances\": [" + "0.5, ".repeat(20_000) + "0.5]}").getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> chunked = ServeFixtures.CLIENT.send(java.net.http.HttpRequest.newBuilder(
        base.resolve("/v1/models/tiny:predict")).POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(
            () -> new java.io.ByteArrayInputStream(big))).build(), HttpResponse.BodyHandlers.ofString());
    assertError(chunked, 413, "request body exceeds the limit of 65536 bytes");
    // the server still answers
    HttpResponse<String> r = post(base, "/v1/models/tiny:predict", ok);
    assertEquals(200, r.statusCode(), r.body());
  }
}
