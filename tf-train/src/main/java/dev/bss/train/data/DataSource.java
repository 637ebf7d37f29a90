package dev.bss.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Finds MNIST and Fashion-MNIST, in this order: {@code --data DIR}, the environment variable {@code BSS_DATA}, Keras's
 * cache ({@code ~/.keras/datasets/mnist.npz}, {@code ~/.keras/datasets/fashion-mnist/*.gz}), a download from the URLs
 * Keras uses (only when allowed; verified against pinned SHA-256 sums and written atomically into that cache), and
 * last the embedded subset shipped in the jar.
 *
 * <p>A data folder has the layout of {@code ../shared/data}: {@code mnist/} and {@code fashion-mnist/}, each with the
 * four official files {@code {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz} ({@code mnist/} may be replaced by a
 * Keras {@code mnist.npz}). The special value {@code embedded} for {@code --data} or {@code BSS_DATA} selects the
 * embedded subset.
 */
public final class DataSource {

  /** Where Keras downloads both datasets from. */
  public static final String KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/";
  /** System property overriding {@link #KERAS_BASE_URL} (a mirror, or a local server in tests). */
  public static final String BASE_URL_PROPERTY = "bss.data.baseUrl";
  /** Environment variable naming a data folder (or {@code embedded}). */
  public static final String ENV_VARIABLE = "BSS_DATA";
  /** Value of {@code --data} / {@code BSS_DATA} selecting the embedded subset. */
  public static final String EMBEDDED = "embedded";
  /** The Keras cache file of MNIST. */
  public static final String MNIST_NPZ = "mnist.npz";
  /** The four official file names, in the order train images, train labels, test images, test labels. */
  public static final List<String> IDX_FILES = List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
      "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");

  /**
   * SHA-256 of the files Keras downloads: {@code mnist.npz} as pinned in {@code keras.datasets.mnist.load_data}, the
   * Fashion-MNIST files as published (and listed in {@code ../shared/data/README.md}).
   */
  public static final Map<String, String> PINNED_SHA256 = Map.of(
      MNIST_NPZ, "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
      "train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
      "train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
      "t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
      "t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5");

  private static final String EMBEDDED_RESOURCES = "/dev/bss/train/data/embedded/";
  private static final String HOW_TO_POINT_AT_LOCAL_FILES = "point at local files with --data DIR or BSS_DATA=DIR"
      + " (a folder with mnist/ and fashion-mnist/ holding the official IDX .gz files), or use --data embedded";

  private final URI baseUrl;
  private final PrintStream progress;
  private final Map<String, String> sha256;

  /** Downloads from {@link #KERAS_BASE_URL} (or the {@value #BASE_URL_PROPERTY} property), progress on stderr. */
  public DataSource() {
    this(URI.create(System.getProperty(BASE_URL_PROPERTY, KERAS_BASE_URL)), System.err);
  }

  /** Downloads from {@code baseUrl} (which ends with a slash), printing progress to {@code progress}. */
  public DataSource(URI baseUrl, PrintStream progress) {
    this(baseUrl, progress, PINNED_SHA256);
  }

  DataSource(URI baseUrl, PrintStream progress, Map<String, String> sha256) {
    String url = baseUrl.toString();
    this.baseUrl = url.endsWith("/") ? baseUrl : URI.create(url + "/");
    this.progress = progress;
    this.sha256 = Map.copyOf(sha256);
  }

  /** Shorthand for {@code new DataSource().load(...)}. */
  public static Datasets resolve(Optional<Path> dataOption, Map<String, String> env, Path kerasHome,
      boolean allowDownload) {
    return new DataSource().load(dataOption, env, kerasHome, allowDownload);
  }

  /**
   * Loads the data from the first source that applies (see the class comment).
   *
   * @param dataOption the {@code --data} argument, if given (a folder, or {@code embedded})
   * @param env the process environment ({@code BSS_DATA} is read from it)
   * @param kerasHome Keras's home folder ({@link #defaultKerasHome}); its {@code datasets/} is the cache
   * @param allowDownload whether missing Keras cache files may be downloaded; when false and the cache is
   *     incomplete, the embedded subset is used
   * @throws IllegalArgumentException naming the folder/file when a given folder is missing or a file is invalid
   * @throws DataException when a needed download fails (one line that says how to point at local files)
   */
  public Datasets load(Optional<Path> dataOption, Map<String, String> env, Path kerasHome, boolean allowDownload) {
    if (dataOption.isPresent()) {
      return fromOption(dataOption.get().toString(), "--data");
    }
    String fromEnv = env.get(ENV_VARIABLE);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromOption(fromEnv, ENV_VARIABLE);
    }
    Path cache = kerasHome.resolve("datasets");
    List<String> missing = missingFromKerasCache(cache);
    if (!missing.isEmpty()) {
      if (!allowDownload) {
        return embedded();
      }
      for (String relative : missing) {
        String name = Path.of(relative).getFileName().toString();
        try {
          new Downloader(progress, Duration.ofSeconds(30))
              .download(baseUrl.resolve(name), cache.resolve(relative), sha256.get(name));
        } catch (DataException e) {
          throw new DataException(e.getMessage() + "; to work offline, " + HOW_TO_POINT_AT_LOCAL_FILES, e);
        }
      }
    }
    return fromKerasCache(cache);
  }

  /** Keras's home: {@code $KERAS_HOME} if set, else {@code ~/.keras}. */
  public static Path defaultKerasHome(Map<String, String> env) {
    String home = env.get("KERAS_HOME");
    return home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".keras");
  }

  /** Reads a data folder with the layout of {@code ../shared/data} (see the class comment). */
  public static Datasets fromDirectory(Path dir) {
    return fromDirectory(dir, dir + " (IDX)");
  }

  /** The embedded subset: the first 10,000 training images of each set and both full 10,000-image test sets. */
  public static Datasets embedded() {
    ImageSet[] mnist = new ImageSet[2];
    ImageSet[] fashion = new ImageSet[2];
    for (int split = 0; split < 2; split++) {
      mnist[split] = embeddedSet("mnist", split);
      fashion[split] = embeddedSet("fashion-mnist", split);
    }
    return new Datasets(mnist[0], fashion[0], mnist[1], fashion[1], "embedded subset (" + mnist[0].size()
        + " train + " + mnist[1].size() + " test images per set, test-data/embedded)");
  }

  /** Reads Keras's cache folder ({@code ~/.keras/datasets}): {@code mnist.npz} and {@code fashion-mnist/*.gz}. */
  public static Datasets fromKerasCache(Path datasets) {
    return assemble(() -> MnistNpz.read(datasets.resolve(MNIST_NPZ)), datasets.resolve("fashion-mnist"),
        datasets + " (Keras cache: mnist.npz, fashion-mnist IDX)");
  }

  /** Hex SHA-256 of a file. */
  public static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        sha.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    }
  }

  private Datasets fromOption(String value, String origin) {
    if (value.equals(EMBEDDED)) {
      return embedded();
    }
    Path dir = Path.of(value);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(origin + " " + value + ": directory not found (expected a folder with"
          + " mnist/ and fashion-mnist/ holding the official IDX .gz files, or 'embedded')");
    }
    return fromDirectory(dir, dir + " (IDX, from " + origin + ")");
  }

  private static Datasets fromDirectory(Path dir, String description) {
    boolean mnistNpz = !Files.isDirectory(dir.resolve("mnist")) && Files.isRegularFile(dir.resolve(MNIST_NPZ));
    List<String> missing = new ArrayList<>();
    for (String dataset : mnistNpz ? List.of("fashion-mnist") : List.of("mnist", "fashion-mnist")) {
      for (String name : IDX_FILES) {
        if (!Files.isRegularFile(dir.resolve(dataset).resolve(name))) {
          missing.add(dataset + "/" + name);
        }
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(dir + ": missing " + String.join(", ", missing) + " (expected mnist/ and"
          + " fashion-mnist/ with the four official IDX .gz files each, the layout of ../shared/data)");
    }
    Supplier<ImageSet[]> mnist = mnistNpz ? () -> MnistNpz.read(dir.resolve(MNIST_NPZ))
        : () -> new ImageSet[] {readIdxSet(dir.resolve("mnist"), "mnist", 0),
            readIdxSet(dir.resolve("mnist"), "mnist", 1)};
    return assemble(mnist, dir.resolve("fashion-mnist"), description);
  }

  /** Reads Fashion-MNIST's training file (the largest) on a second thread while this one reads the rest. */
  private static Datasets assemble(Supplier<ImageSet[]> mnist, Path fashionDir, String description) {
    CompletableFuture<ImageSet> fashionTrain =
        CompletableFuture.supplyAsync(() -> readIdxSet(fashionDir, "fashion-mnist", 0));
    ImageSet[] mnistSets;
    ImageSet fashionTest;
    try {
      mnistSets = mnist.get();
      fashionTest = readIdxSet(fashionDir, "fashion-mnist", 1);
    } catch (RuntimeException e) {
      fashionTrain.cancel(false);
      throw e;
    }
    try {
      return new Datasets(mnistSets[0], fashionTrain.join(), mnistSets[1], fashionTest, description);
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause : e;
    }
  }

  /** The relative paths in Keras's cache that are absent or whose SHA-256 is not the pinned one. */
  private List<String> missingFromKerasCache(Path cache) {
    List<String> relative = new ArrayList<>();
    relative.add(MNIST_NPZ);
    IDX_FILES.forEach(name -> relative.add("fashion-mnist/" + name));
    List<String> missing = new ArrayList<>();
    for (String path : relative) {
      Path file = cache.resolve(path);
      String name = file.getFileName().toString();
      if (!Files.isRegularFile(file)) {
        missing.add(path);
      } else if (!sha256(file).equalsIgnoreCase(sha256.get(name))) {
        // Like Keras's get_file: a cached file that fails its pinned hash is fetched again.
        progress.println("note: " + file + " does not match its pinned sha256; ignoring it");
        missing.add(path);
      }
    }
    return missing;
  }

  private static ImageSet readIdxSet(Path datasetDir, String dataset, int split) {
    Path images = datasetDir.resolve(IDX_FILES.get(2 * split));
    Path labels = datasetDir.resolve(IDX_FILES.get(2 * split + 1));
    return ImageSet.fromRaw(dataset + (split == 0 ? " train" : " test"), Idx.readImages(images),
        Idx.readLabels(labels));
  }

  private static ImageSet embeddedSet(String dataset, int split) {
    String imagesName = EMBEDDED_RESOURCES + dataset + "/" + IDX_FILES.get(2 * split);
    String labelsName = EMBEDDED_RESOURCES + dataset + "/" + IDX_FILES.get(2 * split + 1);
    try (InputStream images = resource(imagesName); InputStream labels = resource(labelsName)) {
      return ImageSet.fromRaw(dataset + (split == 0 ? " train" : " test"),
          Idx.readImages("embedded " + imagesName, images), Idx.readLabels("embedded " + labelsName, labels));
    } catch (IOException e) {
      throw new UncheckedIOException("embedded data: " + e.getMessage(), e);
    }
  }

  private static InputStream resource(String name) {
    InputStream in = DataSource.class.getResourceAsStream(name);
    if (in == null) {
      throw new DataException("embedded data " + name + " is not on the class path (rebuild with mvn, which copies"
          + " test-data/embedded into the jar); " + HOW_TO_POINT_AT_LOCAL_FILES.replace(", or use --data embedded", ""));
    }
    return in;
  }
}
