package dev.bss.train.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.bss.train.data.Batch;
import dev.bss.train.data.DataSource;
import dev.bss.train.io.PngImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * {@code bss serve}'s HTTP server (Jetty 12): TensorFlow Serving's REST API v1 for one model, {@code /v1/separate}
 * and a web page for the separation network, {@code /healthz} and {@code /metrics}.
 *
 * <p>Predict requests go through a {@link Batcher} per signature. Stopping is graceful: the connector stops
 * accepting, requests in flight finish (up to the stop timeout), then the batchers drain.
 */
public final class ServeServer implements AutoCloseable {

  /**
   * Server settings.
   *
   * @param name the model name in URLs ({@code /v1/models/NAME})
   * @param port 0 for a free port
   * @param maxBatch most rows merged into one session run (1: no batching)
   * @param batchTimeoutMicros how long a batch waits for more requests
   * @param batchThreads threads running batches
   * @param maxBodyBytes largest request body accepted (413 beyond)
   * @param requestTimeoutMillis longest a request waits for its result (504 beyond)
   */
  public record Options(String name, String host, int port, int maxBatch, long batchTimeoutMicros, int batchThreads,
      long maxBodyBytes, long requestTimeoutMillis) {}

  private static final Pattern PREDICT = Pattern.compile("/v1/models/([^/:]+)(?:/versions/(\\d+))?:(\\w+)",
      Pattern.CASE_INSENSITIVE);
  private static final Pattern METADATA = Pattern.compile(
      "/v1/models/([^/:]+)(?:/versions/(\\d+)|/labels/([^/:]+))?/metadata", Pattern.CASE_INSENSITIVE);
  private static final Pattern STATUS = Pattern.compile("/v1/models(?:/([^/:]+))?(?:/versions/(\\d+)|/labels/"
      + "([^/:]+))?", Pattern.CASE_INSENSITIVE);
  /** The one version served. */
  public static final String VERSION = "1";
  private static final int SAMPLES = 8;
  /** Most bytes of a refused body read and dropped before answering 413. */
  private static final long DRAIN_LIMIT = 64L << 20;

  private final ServedModel model;
  private final Options options;
  private final ServeMetrics metrics = new ServeMetrics();
  private final Map<String, Batcher> batchers = new ConcurrentHashMap<>();
  private final Server server;
  private final ServerConnector connector;
  private volatile String samplesJson;
  /** Bytes of request bodies that may be in flight at once: 16 bodies of the largest size. */
  private final java.util.concurrent.Semaphore bodyBudget;

  /**
   * Starts serving.
   *
   * @throws UncheckedIOException when the port cannot be bound
   */
  public ServeServer(ServedModel model, Options options) {
    this.model = model;
    this.options = options;
    this.bodyBudget = new java.util.concurrent.Semaphore((int) Math.min(Integer.MAX_VALUE, 16 * options.maxBodyBytes()));
    QueuedThreadPool threads = new QueuedThreadPool(200, 8);
    threads.setName("bss-serve");
    this.server = new Server(threads);
    this.connector = new ServerConnector(server);
    connector.setHost(options.host());
    connector.setPort(options.port());
    server.addConnector(connector);
    GracefulHandler graceful = new GracefulHandler();
    graceful.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        ServeServer.this.handle(request, response, callback);
        return true;
      }
    });
    server.setHandler(graceful);
    server.setStopTimeout(Math.max(5_000, options.requestTimeoutMillis() + 1_000));
    try {
      server.start();
    } catch (Exception e) {
      try {
        server.stop();
      } catch (Exception ignored) {
        // the start failure is the error to report
      }
      throw new UncheckedIOException(new IOException("cannot listen on " + options.host() + ":" + options.port()
          + ": " + e.getMessage(), e));
    }
  }

  /** The port listened on (the free port chosen when asked for 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** {@code http://host:port/}. */
  public URI uri() {
    String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
    return URI.create("http://" + host + ":" + port() + "/");
  }

  public ServeMetrics metrics() {
    return metrics;
  }

  /** Blocks until the server has stopped. */
  public void join() throws InterruptedException {
    server.join();
  }

  /** Stops accepting, lets requests in flight finish, then drains the batchers. */
  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      // keep closing the batchers
    }
    batchers.values().forEach(Batcher::close);
  }

  private record Reply(int status, String contentType, byte[] body) {
    static Reply json(int status, String json) {
      return new Reply(status, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    static Reply error(ServeError e) {
      return json(e.status(), PredictJson.error(e.getMessage()));
    }
  }

  private void handle(Request request, Response response, Callback callback) {
    long start = System.nanoTime();
    String path = Request.getPathInContext(request);
    String method = request.getMethod();
    String endpoint = endpoint(path);
    Reply reply;
    // Bodies in flight are bounded as a whole (a body and what is parsed from it live until the reply): a request
    // holds its declared length (the limit when undeclared) from this budget while it is handled.
    long declared = request.getLength();
    int permits = declared == 0 ? 0 : (int) Math.min(options.maxBodyBytes(), declared < 0 ? Long.MAX_VALUE : declared);
    boolean admitted = false;
    try {
      admitted = permits == 0 || bodyBudget.tryAcquire(permits, options.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
      reply = admitted ? route(method, path, request) : Reply.json(503, PredictJson.error("server busy: too many "
          + "large requests in flight, retry later"));
    } catch (ServeError e) {
      reply = Reply.error(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      reply = Reply.json(503, PredictJson.error("interrupted"));
    } catch (RuntimeException e) {
      reply = Reply.json(500, PredictJson.error("internal error: " + e));
    } finally {
      if (admitted && permits > 0) {
        bodyBudget.release(permits);
      }
    }
    metrics.request(endpoint, reply.status(), System.nanoTime() - start);
    response.setStatus(reply.status());
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, reply.contentType());
    response.write(true, ByteBuffer.wrap(reply.body()), callback);
  }

  private static String endpoint(String path) {
    if (path.equals("/")) {
      return "page";
    }
    if (path.equals("/healthz") || path.equals("/metrics") || path.equals("/v1/separate")
        || path.equals("/v1/samples")) {
      return path.substring(path.lastIndexOf('/') + 1);
    }
    if (PREDICT.matcher(path).matches()) {
      return "predict";
    }
    if (METADATA.matcher(path).matches()) {
      return "metadata";
    }
    return STATUS.matcher(path).matches() ? "status" : "other";
  }

  private Reply route(String method, String path, Request request) {
    boolean get = method.equals("GET") || method.equals("HEAD");
    if (get && path.equals("/")) {
      return new Reply(200, "text/html; charset=utf-8", page());
    }
    if (get && path.equals("/healthz")) {
      return Reply.json(200, "{\"status\": \"ok\", \"model\": " + PredictJson.string(options.name()) + "}");
    }
    if (get && path.equals("/metrics")) {
      return new Reply(200, "text/plain; version=0.0.4; charset=utf-8",
          metrics.prometheusText().getBytes(StandardCharsets.UTF_8));
    }
    if (get && path.equals("/v1/samples")) {
      return Reply.json(200, samples());
    }
    if (method.equals("POST") && path.equals("/v1/separate")) {
      return Reply.json(200, separate(body(request)));
    }
    Matcher m;
    if (method.equals("POST") && (m = PREDICT.matcher(path)).matches()) {
      String body = new String(body(request), StandardCharsets.UTF_8);
      findModel(m.group(1), m.group(2));
      if (!m.group(3).equals("predict")) {
        throw ServeError.badRequest("bss serve implements :predict only (found :" + m.group(3) + ")");
      }
      return Reply.json(200, predict(body));
    }
    if (get && (m = METADATA.matcher(path)).matches()) {
      findModel(m.group(1), m.group(2));
      return Reply.json(200, metadata());
    }
    if (get && (m = STATUS.matcher(path)).matches()) {
      if (m.group(1) == null) {
        throw ServeError.badRequest("Missing model name in request.");
      }
      if (!m.group(1).equals(options.name()) || (m.group(2) != null && !m.group(2).equals(VERSION))) {
        throw new ServeError(404, m.group(2) == null ? "Could not find any versions of model " + m.group(1)
            : "Could not find version " + m.group(2) + " of model " + m.group(1));
      }
      return Reply.json(200, status());
    }
    if (path.regionMatches(true, 0, "/v1/", 0, 4)) {
      throw ServeError.badRequest("Malformed request: " + method + " " + path);
    }
    throw new ServeError(404, "Not found: " + method + " " + path);
  }

  private void findModel(String name, String version) {
    if (!name.equals(options.name())) {
      throw new ServeError(404, "Servable not found for request: "
          + (version == null ? "Latest(" + name + ")" : "Specific(" + name + ", " + version + ")"));
    }
    if (version != null && !version.equals(VERSION)) {
      throw new ServeError(404, "Servable not found for request: Specific(" + name + ", " + version + ")");
    }
  }

  private byte[] body(Request request) {
    long declared = request.getLength();
    try (InputStream in = Content.Source.asInputStream(request)) {
      if (declared > options.maxBodyBytes()) {
        drain(in);
        throw new ServeError(413, "request body of " + declared + " bytes exceeds the limit of "
            + options.maxBodyBytes() + " bytes (--max-body-bytes)");
      }
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, options.maxBodyBytes() + 1));
      if (bytes.length > options.maxBodyBytes()) {
        drain(in);
        throw new ServeError(413, "request body exceeds the limit of " + options.maxBodyBytes()
            + " bytes (--max-body-bytes)");
      }
      return bytes;
    } catch (IOException e) {
      throw ServeError.badRequest("cannot read the request body: " + e.getMessage());
    }
  }

  /**
   * Reads and drops what is left of a refused body (up to a bound), so that the client, still sending, reads the
   * 413 instead of a reset connection; beyond the bound the connection is closed.
   */
  private static void drain(InputStream in) throws IOException {
    long left = DRAIN_LIMIT;
    byte[] scratch = new byte[64 * 1024];
    int n;
    while (left > 0 && (n = in.read(scratch, 0, (int) Math.min(scratch.length, left))) > 0) {
      left -= n;
    }
  }

  private Map<String, FloatTensor> runBatched(String signature, Map<String, FloatTensor> inputs, int rows) {
    Batcher batcher = batchers.computeIfAbsent(signature, s -> new Batcher(s, in -> model.run(s, in),
        options.maxBatch(), options.batchTimeoutMicros(), options.batchThreads(), metrics));
    CompletableFuture<Map<String, FloatTensor>> f = batcher.submit(inputs, rows);
    try {
      return f.get(options.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(false);
      throw new ServeError(504, "Request timed out after " + options.requestTimeoutMillis()
          + " ms (--request-timeout-ms)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ServeError(503, "interrupted");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof ServeError se) {
        throw se;
      }
      if (c instanceof IllegalArgumentException) {
        throw ServeError.badRequest(c.getMessage());
      }
      if (c instanceof IllegalStateException && "the server is shutting down".equals(c.getMessage())) {
        throw new ServeError(503, c.getMessage());
      }
      throw new ServeError(500, String.valueOf(c));
    }
  }

  private String predict(String body) {
    PredictJson.Request r = PredictJson.parse(body, model);
    return PredictJson.response(runBatched(r.signature(), r.inputs(), r.rows()), r.format());
  }

  private String separate(byte[] png) {
    if (!model.separates()) {
      throw ServeError.badRequest("model '" + options.name() + "' is not a separation model (its default signature "
          + "has no decoded1/decoded2 outputs over a [-1, 32, 32, 1] input); use /v1/models/" + options.name()
          + ":predict");
    }
    float[] mixture;
    try {
      mixture = PngImages.readMixture(png, "body");
    } catch (IllegalArgumentException e) {
      throw ServeError.badRequest(e.getMessage());
    }
    ServedModel.SignatureSpec spec = model.signatures().get(model.defaultSignature());
    Map<String, FloatTensor> out = runBatched(spec.key(), Map.of(spec.inputs().get(0).key(),
        new FloatTensor(new long[] {1, 32, 32, 1}, mixture)), 1);
    List<String> keys = model.separationOutputs();
    Base64.Encoder b64 = Base64.getEncoder();
    JsonObject o = new JsonObject();
    o.addProperty("format", "png");
    o.addProperty("mixture", b64.encodeToString(PngImages.grayPng(mixture, 0)));
    o.addProperty("decoded1", b64.encodeToString(PngImages.grayPng(out.get(keys.get(0)).values(), 0)));
    o.addProperty("decoded2", b64.encodeToString(PngImages.grayPng(out.get(keys.get(1)).values(), 0)));
    return o.toString();
  }

  /** A few mixtures of the embedded test sets (seeded), as base64 PNGs for the page. */
  private String samples() {
    String s = samplesJson;
    if (s == null) {
      float[] mixtures;
      try (Batch batch = Batch.allocate(SAMPLES)) {
        DataSource.embedded().testMixtures(1).fill(0, batch);
        mixtures = batch.mixtureValues();
      }
      JsonArray list = new JsonArray();
      for (int i = 0; i < SAMPLES; i++) {
        list.add(Base64.getEncoder().encodeToString(PngImages.grayPng(mixtures, i)));
      }
      JsonObject o = new JsonObject();
      o.add("samples", list);
      samplesJson = s = o.toString();
    }
    return s;
  }

  private byte[] page() {
    try (InputStream in = ServeServer.class.getResourceAsStream("index.html")) {
      String html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return html.replace("{{MODEL}}", escapeHtml(options.name()))
          .replace("{{SEPARATES}}", String.valueOf(model.separates())).getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String escapeHtml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  private String status() {
    return "{\"model_version_status\": [{\"version\": \"" + VERSION + "\", \"state\": \"AVAILABLE\", "
        + "\"status\": {\"error_code\": \"OK\", \"error_message\": \"\"}}]}";
  }

  /** GetModelMetadataResponse as TF Serving writes it (signature_def map with dtypes, shapes and tensor names). */
  private String metadata() {
    JsonObject spec = new JsonObject();
    spec.addProperty("name", options.name());
    spec.addProperty("signature_name", "");
    spec.addProperty("version", VERSION);
    JsonObject defs = new JsonObject();
    for (ServedModel.SignatureSpec s : model.signatures().values()) {
      JsonObject def = new JsonObject();
      def.add("inputs", tensors(s.inputs()));
      def.add("outputs", tensors(s.outputs()));
      def.addProperty("method_name", s.methodName());
      def.add("defaults", new JsonObject());
      defs.add(s.key(), def);
    }
    JsonObject inner = new JsonObject();
    inner.add("signature_def", defs);
    JsonObject meta = new JsonObject();
    meta.add("signature_def", inner);
    JsonObject o = new JsonObject();
    o.add("model_spec", spec);
    o.add("metadata", meta);
    return o.toString();
  }

  private static JsonObject tensors(List<ServedModel.TensorSpec> list) {
    JsonObject o = new JsonObject();
    for (ServedModel.TensorSpec t : list) {
      JsonObject info = new JsonObject();
      info.addProperty("dtype", t.dtype());
      JsonObject shape = new JsonObject();
      JsonArray dims = new JsonArray();
      if (t.shape() != null) {
        for (long d : t.shape()) {
          JsonObject dim = new JsonObject();
          dim.addProperty("size", String.valueOf(d));
          dim.addProperty("name", "");
          dims.add(dim);
        }
      }
      shape.add("dim", dims);
      shape.addProperty("unknown_rank", t.shape() == null);
      info.add("tensor_shape", shape);
      info.addProperty("name", t.tensorName());
      o.add(t.key(), info);
    }
    return o;
  }
}
