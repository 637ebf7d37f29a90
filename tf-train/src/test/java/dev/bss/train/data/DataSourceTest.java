package dev.bss.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.bss.interop.numpy.NpyArray;
import dev.bss.interop.numpy.Npz;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Source resolution and the download path, against a local HTTP server on 127.0.0.1 (no network needed). */
class DataSourceTest {

  /** The files a Keras cache holds, made from the embedded subset: name -> bytes. */
  private static final Map<String, byte[]> SERVED = new LinkedHashMap<>();
  private static final Map<String, String> SUMS = new HashMap<>();

  @TempDir
  Path dir;

  private HttpServer server;
  private final Map<String, byte[]> overrides = new ConcurrentHashMap<>();
  private final List<String> requested = new ArrayList<>();
  private final ByteArrayOutputStream progressBytes = new ByteArrayOutputStream();
  private final PrintStream progress = new PrintStream(progressBytes, true, StandardCharsets.UTF_8);

  @BeforeAll
  static void makeServedFiles(@TempDir Path tmp) throws IOException {
    // mnist.npz in Keras's layout (uint8 x_*, y_*), cut small so the test stays fast.
    Path embedded = TestFiles.embeddedDir();
    Path mnist = embedded.resolve("mnist");
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    byte[] xTrain = java.util.Arrays.copyOf(Idx.readImages(mnist.resolve("train-images-idx3-ubyte.gz")), 300 * 784);
    byte[] yTrain = java.util.Arrays.copyOf(Idx.readLabels(mnist.resolve("train-labels-idx1-ubyte.gz")), 300);
    byte[] xTest = java.util.Arrays.copyOf(Idx.readImages(mnist.resolve("t10k-images-idx3-ubyte.gz")), 200 * 784);
    byte[] yTest = java.util.Arrays.copyOf(Idx.readLabels(mnist.resolve("t10k-labels-idx1-ubyte.gz")), 200);
    arrays.put("x_train", new NpyArray("x_train", "|u1", new long[] {300, 28, 28}, xTrain));
    arrays.put("y_train", new NpyArray("y_train", "|u1", new long[] {300}, yTrain));
    arrays.put("x_test", new NpyArray("x_test", "|u1", new long[] {200, 28, 28}, xTest));
    arrays.put("y_test", new NpyArray("y_test", "|u1", new long[] {200}, yTest));
    Path npz = tmp.resolve("mnist.npz");
    Npz.write(npz, arrays);
    SERVED.put("mnist.npz", Files.readAllBytes(npz));
    for (String name : DataSource.IDX_FILES) {
      SERVED.put(name, Files.readAllBytes(embedded.resolve("fashion-mnist").resolve(name)));
    }
    for (Map.Entry<String, byte[]> e : SERVED.entrySet()) {
      Path f = tmp.resolve("sum-" + e.getKey());
      Files.write(f, e.getValue());
      SUMS.put(e.getKey(), DataSource.sha256(f));
    }
  }

  @AfterEach
  void stopServer() {
    if (server != null) {
      server.stop(0);
    }
  }

  private URI startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/datasets/", exchange -> {
      String name = exchange.getRequestURI().getPath().substring("/datasets/".length());
      synchronized (requested) {
        requested.add(name);
      }
      byte[] body = overrides.getOrDefault(name, SERVED.get(name));
      if (body == null) {
        exchange.sendResponseHeaders(404, -1);
      } else {
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
      exchange.close();
    });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/datasets/");
  }

  private DataSource source(URI base) {
    return new DataSource(base, progress, SUMS);
  }

  @Test
  void downloadsIntoTheKerasCacheVerifiedThenReadsIt() throws IOException {
    Path kerasHome = dir.resolve("keras");
    Datasets data = source(startServer()).load(Optional.empty(), Map.of(), kerasHome, true);
    Path cache = kerasHome.resolve("datasets");
    assertArrayEquals(SERVED.get("mnist.npz"), Files.readAllBytes(cache.resolve("mnist.npz")));
    for (String name : DataSource.IDX_FILES) {
      assertArrayEquals(SERVED.get(name), Files.readAllBytes(cache.resolve("fashion-mnist").resolve(name)), name);
    }
    assertEquals(300, data.mnistTrain().size());
    assertEquals(200, data.mnistTest().size());
    assertEquals(10000, data.fashionTrain().size());
    assertEquals(5, data.mnistTrain().label(0));
    assertTrue(data.description().contains("Keras cache"), data.description());
    String log = progressBytes.toString(StandardCharsets.UTF_8);
    assertTrue(log.contains("downloading http://127.0.0.1:") && log.contains("mnist.npz: 100%"), log);
    assertNoTemporaryFiles(cache);

    // Second time: everything is cached and verified, nothing is fetched again.
    requested.clear();
    Datasets again = source(URI.create("http://127.0.0.1:1/unused/")).load(Optional.empty(), Map.of(), kerasHome,
        true);
    assertEquals(data.mnistTrain().pixelSum(), again.mnistTrain().pixelSum());
    assertEquals(List.of(), requested);
  }

  @Test
  void wrongBytesFailTheChecksumAndLeaveNothingInTheCache() throws IOException {
    byte[] tampered = SERVED.get("t10k-labels-idx1-ubyte.gz").clone();
    tampered[tampered.length / 2] ^= 1;
    overrides.put("t10k-labels-idx1-ubyte.gz", tampered);
    Path kerasHome = dir.resolve("keras");
    DataException e = assertThrows(DataException.class,
        () -> source(startServer()).load(Optional.empty(), Map.of(), kerasHome, true));
    String msg = e.getMessage();
    assertTrue(msg.contains("/t10k-labels-idx1-ubyte.gz for t10k-labels-idx1-ubyte.gz: sha256 "), msg);
    assertTrue(msg.contains("expected " + SUMS.get("t10k-labels-idx1-ubyte.gz") + " (file discarded)"), msg);
    assertEquals(1, msg.lines().count(), msg);
    assertFalse(Files.exists(kerasHome.resolve("datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")));
    assertNoTemporaryFiles(kerasHome.resolve("datasets"));
  }

  @Test
  void serverDownGivesOneLineSayingHowToUseLocalFiles() throws IOException {
    URI base = startServer();
    server.stop(0);
    server = null;
    Path kerasHome = dir.resolve("keras");
    DataException e = assertThrows(DataException.class,
        () -> source(base).load(Optional.empty(), Map.of(), kerasHome, true));
    String msg = e.getMessage();
    assertTrue(msg.startsWith("download of " + base + "mnist.npz failed (cannot connect to 127.0.0.1:"), msg);
    assertTrue(msg.contains("point at local files with --data DIR or BSS_DATA=DIR"), msg);
    assertEquals(1, msg.lines().count(), msg);
    assertFalse(Files.exists(kerasHome.resolve("datasets/mnist.npz")));
  }

  @Test
  void httpErrorIsReportedWithTheStatus() throws IOException {
    overrides.clear();
    URI base = startServer();
    Map<String, String> sums = new HashMap<>(SUMS);
    DataSource missingFile = new DataSource(base.resolve("../elsewhere/"), progress, sums);
    DataException e = assertThrows(DataException.class,
        () -> missingFile.load(Optional.empty(), Map.of(), dir.resolve("keras"), true));
    assertTrue(e.getMessage().startsWith("download of " + base.resolve("../elsewhere/mnist.npz") + " failed: HTTP 404"),
        e.getMessage());
  }

  @Test
  void withoutDownloadAnIncompleteCacheFallsBackToEmbedded() throws IOException {
    Path kerasHome = dir.resolve("keras");
    Files.createDirectories(kerasHome.resolve("datasets"));
    Files.write(kerasHome.resolve("datasets/mnist.npz"), SERVED.get("mnist.npz"));
    Datasets data = source(URI.create("http://127.0.0.1:1/")).load(Optional.empty(), Map.of(), kerasHome, false);
    assertTrue(data.description().startsWith("embedded subset"), data.description());
    assertEquals(10000, data.mnistTrain().size());
  }

  @Test
  void aCompleteCacheIsUsedWithoutDownloadButATamperedOneIsNot() throws IOException {
    Path cache = dir.resolve("keras/datasets");
    Files.createDirectories(cache.resolve("fashion-mnist"));
    Files.write(cache.resolve("mnist.npz"), SERVED.get("mnist.npz"));
    for (String name : DataSource.IDX_FILES) {
      Files.write(cache.resolve("fashion-mnist").resolve(name), SERVED.get(name));
    }
    DataSource offline = source(URI.create("http://127.0.0.1:1/"));
    Datasets data = offline.load(Optional.empty(), Map.of(), dir.resolve("keras"), false);
    assertEquals(300, data.mnistTrain().size());
    assertTrue(data.description().startsWith(cache + " (Keras cache"), data.description());

    Files.write(cache.resolve("mnist.npz"), new byte[] {1, 2, 3});
    Datasets fallback = offline.load(Optional.empty(), Map.of(), dir.resolve("keras"), false);
    assertTrue(fallback.description().startsWith("embedded subset"), fallback.description());
    assertTrue(progressBytes.toString(StandardCharsets.UTF_8).contains("does not match its pinned sha256"));
  }

  @Test
  void dataOptionWinsOverEnvironmentWhichWinsOverCache() {
    Path embeddedDir = TestFiles.embeddedDir();
    DataSource offline = source(URI.create("http://127.0.0.1:1/"));
    Datasets fromOption = offline.load(Optional.of(embeddedDir), Map.of("BSS_DATA", "/nonexistent"),
        dir.resolve("keras"), false);
    assertEquals(embeddedDir + " (IDX, from --data)", fromOption.description());
    assertEquals(10000, fromOption.fashionTest().size());

    Datasets fromEnv = offline.load(Optional.empty(), Map.of("BSS_DATA", embeddedDir.toString()),
        dir.resolve("keras"), false);
    assertEquals(embeddedDir + " (IDX, from BSS_DATA)", fromEnv.description());

    Datasets embedded = offline.load(Optional.of(Path.of("embedded")), Map.of(), dir.resolve("keras"), true);
    assertTrue(embedded.description().startsWith("embedded subset"));
    Datasets embeddedEnv = offline.load(Optional.empty(), Map.of("BSS_DATA", "embedded"), dir.resolve("keras"), true);
    assertEquals(embedded.mnistTrain().pixelSum(), embeddedEnv.mnistTrain().pixelSum());
  }

  @Test
  void missingFolderOrFilesAreOneLineErrorsNamingThem() throws IOException {
    DataSource offline = source(URI.create("http://127.0.0.1:1/"));
    Path nowhere = dir.resolve("nowhere");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> offline.load(Optional.of(nowhere), Map.of(), dir, false));
    assertEquals("--data " + nowhere + ": directory not found (expected a folder with mnist/ and fashion-mnist/"
        + " holding the official IDX .gz files, or 'embedded')", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> offline.load(Optional.empty(), Map.of("BSS_DATA", nowhere.toString()), dir, false));
    assertTrue(e.getMessage().startsWith("BSS_DATA " + nowhere + ": directory not found"), e.getMessage());

    Path partial = dir.resolve("partial");
    Files.createDirectories(partial.resolve("mnist"));
    Files.createDirectories(partial.resolve("fashion-mnist"));
    for (String name : DataSource.IDX_FILES) {
      Files.write(partial.resolve("mnist").resolve(name), SERVED.get(name));
    }
    Files.write(partial.resolve("fashion-mnist/train-labels-idx1-ubyte.gz"), SERVED.get("train-labels-idx1-ubyte.gz"));
    e = assertThrows(IllegalArgumentException.class, () -> DataSource.fromDirectory(partial));
    assertEquals(partial + ": missing fashion-mnist/train-images-idx3-ubyte.gz, fashion-mnist/t10k-images-idx3-ubyte.gz,"
        + " fashion-mnist/t10k-labels-idx1-ubyte.gz (expected mnist/ and fashion-mnist/ with the four official IDX"
        + " .gz files each, the layout of ../shared/data)", e.getMessage());
    assertEquals(1, e.getMessage().lines().count());

    // A corrupt file inside a data folder is reported with its own path.
    for (String name : DataSource.IDX_FILES) {
      Files.write(partial.resolve("fashion-mnist").resolve(name), SERVED.get(name));
    }
    Path broken = partial.resolve("fashion-mnist/t10k-images-idx3-ubyte.gz");
    byte[] bytes = SERVED.get("t10k-images-idx3-ubyte.gz");
    Files.write(broken, java.util.Arrays.copyOf(bytes, bytes.length - 1000));
    e = assertThrows(IllegalArgumentException.class, () -> DataSource.fromDirectory(partial));
    TestFiles.assertOneLine(e.getMessage(), broken, "truncated gzip data");
    // The Fashion training file is read on a second thread; its errors arrive unchanged.
    Files.write(broken, bytes);
    Path brokenTrain = partial.resolve("fashion-mnist/train-images-idx3-ubyte.gz");
    Files.write(brokenTrain, new byte[] {1, 2, 3});
    e = assertThrows(IllegalArgumentException.class, () -> DataSource.fromDirectory(partial));
    TestFiles.assertOneLine(e.getMessage(), brokenTrain, "not a valid gzip file");
  }

  @Test
  void folderMayHoldAKerasMnistNpzInsteadOfMnistIdx() throws IOException {
    Path mixed = dir.resolve("mixed");
    Files.createDirectories(mixed.resolve("fashion-mnist"));
    Files.write(mixed.resolve("mnist.npz"), SERVED.get("mnist.npz"));
    for (String name : DataSource.IDX_FILES) {
      Files.write(mixed.resolve("fashion-mnist").resolve(name), SERVED.get(name));
    }
    Datasets data = DataSource.fromDirectory(mixed);
    assertEquals(300, data.mnistTrain().size());
    assertEquals(10000, data.fashionTrain().size());
  }

  @Test
  void pinnedSumsMatchTheOfficialFashionFiles() {
    Path shared = TestFiles.sharedData();
    for (String name : DataSource.IDX_FILES) {
      assertEquals(DataSource.PINNED_SHA256.get(name), DataSource.sha256(shared.resolve("fashion-mnist").resolve(name)),
          name);
    }
    assertEquals("731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        DataSource.PINNED_SHA256.get("mnist.npz"), "keras.datasets.mnist.load_data's file_hash");
  }

  private static void assertNoTemporaryFiles(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      List<Path> temps = files.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
      assertEquals(List.of(), temps, "no partial downloads left");
    }
  }
}
