package dev.bss.interop.keras;

import dev.bss.model.keras.ReferenceGraph;
import dev.bss.model.keras.KerasGraph;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.bss.interop.AtomicFiles;
import dev.bss.interop.JsonLimits;
import dev.bss.interop.LoadedModel;
import dev.bss.interop.ModelFormat;
import dev.bss.interop.SafeZip;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import io.jhdf.HdfFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Keras 3 {@code .keras} archives of the reference network: a zip of {@code config.json} (the functional graph,
 * layers in Keras's operation order), {@code model.weights.h5} (same layout as a {@code .weights.h5}) and
 * {@code metadata.json}.
 *
 * <p>Reading maps the weights through the {@code model.layers} order (structure, not names, so a model whose layers
 * got other auto names still maps), takes the position embedding from the {@code add} node's {@code __tensor__}
 * argument, and infers the config from the weights' shapes plus LayerNorm epsilon and dropout rate from the config.
 * Writing produces the config with {@link KerasConfigJson} and exactly these three entries (Keras treats a fourth
 * entry as an assets folder).
 */
public final class KerasArchive {

  /** The Keras version whose file format the writer follows (the fixtures' version). */
  public static final String KERAS_FORMAT_VERSION = "3.15.1";

  private KerasArchive() {}

  /** The parsed {@code config.json} of a {@code .keras} file. */
  public static JsonObject readConfigJson(Path file) {
    try (ZipFile zip = openZip(file)) {
      return parseConfig(zip, file);
    } catch (IOException e) {
      throw new IllegalArgumentException(".keras file " + file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Reads a {@code .keras} file.
   *
   * @param config the config to use, or null to infer it (shapes, plus epsilon and dropout from config.json)
   * @throws IllegalArgumentException naming the file: not a zip, entries missing, another architecture, weights
   *     missing or mis-shaped
   */
  public static LoadedModel read(Path file, ModelConfig config) {
    String where = ".keras file " + file;
    try (ZipFile zip = openZip(file)) {
      JsonObject root = parseConfig(zip, file);
      ZipEntry weightsEntry = zip.getEntry("model.weights.h5");
      if (weightsEntry == null) {
        throw new IllegalArgumentException(where + ": no model.weights.h5 entry (found " + names(zip) + ")");
      }
      byte[] h5 = SafeZip.read(zip, weightsEntry, where + " model.weights.h5", SafeZip.MAX_MEMBER_BYTES);
      Map<String, Weight> datasets;
      try (HdfFile hdf = Hdf5.open(h5, where + " model.weights.h5")) {
        datasets = KerasWeightsH5.readDatasets(hdf, where + " model.weights.h5");
      }
      JsonArray layers = functionalLayers(root, where);
      Weight pos = positionEmbedding(layers, where);
      if (config == null) {
        ModelConfig shapes = ConfigInference.fromWeightsH5(datasets, where);
        Map<String, Object> map = shapes.toMap();
        Double eps = firstConfigNumber(layers, "LayerNormalization", "epsilon");
        Double rate = firstConfigNumber(layers, "Dropout", "rate");
        if (eps != null) {
          map.put("ln_epsilon", eps);
        }
        if (rate != null) {
          map.put("dropout", rate);
        }
        config = ModelConfig.fromMap(map);
      }
      checkArchitecture(layers, config, where);
      return KerasWeightsH5.fromDatasets(datasets, config, pos, ModelFormat.KERAS, file, where);
    } catch (IOException e) {
      throw new IllegalArgumentException(where + ": cannot read (" + e.getMessage() + ")", e);
    } catch (IllegalStateException | UnsupportedOperationException | ClassCastException | NullPointerException
        | NumberFormatException e) {
      // Gson's getAs* on a value of another kind: config.json does not have Keras's structure.
      throw new IllegalArgumentException(where + ": malformed config.json (" + e.getMessage() + ")", e);
    }
  }

  /** Writes {@code weights} as a {@code .keras} archive (atomically). */
  public static void write(Path file, ModelConfig config, WeightSet weights) throws IOException {
    WeightCheck.validate(weights, config, "weights to write");
    KerasGraph graph = ReferenceGraph.of(config);
    JsonObject root = KerasConfigJson.of(graph, weights.get(WeightSet.POSITION_EMBEDDING), ReferenceGraph.MODEL_NAME);
    String configJson = new GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(root);
    JsonObject metadata = new JsonObject();
    metadata.addProperty("keras_version", KERAS_FORMAT_VERSION);
    metadata.addProperty("date_saved", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd@HH:mm:ss")));
    Path h5 = Files.createTempFile("bss-", ".weights.h5");
    try {
      // The position embedding lives in config.json here, so the inner weights file is exactly Keras's layout.
      KerasWeightsH5.writeTo(h5, config, weights, false);
      byte[] h5Bytes = Files.readAllBytes(h5);
      AtomicFiles.write(file, tmp -> {
        try (OutputStream out = Files.newOutputStream(tmp); ZipOutputStream zip = new ZipOutputStream(out)) {
          put(zip, "metadata.json", metadata.toString().getBytes(StandardCharsets.UTF_8));
          put(zip, "config.json", configJson.getBytes(StandardCharsets.UTF_8));
          put(zip, "model.weights.h5", h5Bytes);
        }
      });
    } finally {
      Files.deleteIfExists(h5);
    }
  }

  private static void put(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    zip.write(bytes);
    zip.closeEntry();
  }

  private static ZipFile openZip(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(".keras file " + file + ": no such file");
    }
    try {
      return new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new IllegalArgumentException(".keras file " + file + ": not a zip archive (a .keras file is a zip of "
          + "config.json, model.weights.h5 and metadata.json): " + e.getMessage(), e);
    }
  }

  private static JsonObject parseConfig(ZipFile zip, Path file) throws IOException {
    ZipEntry entry = zip.getEntry("config.json");
    if (entry == null) {
      throw new IllegalArgumentException(".keras file " + file + ": no config.json entry (found " + names(zip) + ")");
    }
    String where = ".keras file " + file + " config.json";
    String text = new String(SafeZip.read(zip, entry, where, JsonLimits.MAX_CONFIG_BYTES), StandardCharsets.UTF_8);
    return JsonLimits.parseObject(text, where);
  }

  private static List<String> names(ZipFile zip) {
    List<String> names = new ArrayList<>();
    zip.stream().forEach(e -> names.add(e.getName()));
    return names;
  }

  /** The {@code layers} list of a Functional config. */
  static JsonArray functionalLayers(JsonObject root, String where) {
    JsonElement config = root.get("config");
    if (config == null || !config.isJsonObject() || !(config.getAsJsonObject().get("layers") instanceof JsonArray a)) {
      throw new IllegalArgumentException(where + ": config.json has no config.layers list (not a Functional model; "
          + "found class_name " + root.get("class_name") + ")");
    }
    return a;
  }

  /**
   * The position embedding: the {@code {"class_name": "__tensor__", "config": {"value": ...}}} argument of the
   * node that adds it (the bare {@code add} operation after the bottleneck Dense).
   */
  static Weight positionEmbedding(JsonArray layers, String where) {
    for (JsonElement l : layers) {
      JsonObject layer = l.getAsJsonObject();
      if (!(layer.get("inbound_nodes") instanceof JsonArray nodes)) {
        continue;
      }
      for (JsonElement node : nodes) {
        if (!(node.isJsonObject() && node.getAsJsonObject().get("args") instanceof JsonArray args)) {
          continue;
        }
        for (JsonElement arg : args) {
          if (arg.isJsonObject() && "__tensor__".equals(string(arg.getAsJsonObject().get("class_name")))) {
            JsonElement value = arg.getAsJsonObject().getAsJsonObject("config").get("value");
            return fromNested(value, where + " (" + string(layer.get("name")) + " node)");
          }
        }
      }
    }
    throw new IllegalArgumentException(where + ": no position embedding found (expected a __tensor__ argument of "
        + "the add node after the bottleneck Dense)");
  }

  /** Nested JSON lists of numbers as a row-major Weight. */
  static Weight fromNested(JsonElement value, String where) {
    List<Long> shape = new ArrayList<>();
    JsonElement e = value;
    while (e != null && e.isJsonArray()) {
      shape.add((long) e.getAsJsonArray().size());
      e = e.getAsJsonArray().size() == 0 ? null : e.getAsJsonArray().get(0);
    }
    // The declared shape comes from the first element of each level; check it before allocating (a small hostile
    // file can declare [1, 16, 10^9]).
    if (shape.size() != 3 || shape.get(0) != 1 || shape.get(1) != ModelConfig.TOKENS || shape.get(2) < 1
        || shape.get(2) > ModelConfig.MAX_WIDTH) {
      throw new IllegalArgumentException(where + ": position embedding (__tensor__ value): expected shape [1, "
          + ModelConfig.TOKENS + ", embed_dim] with embed_dim <= " + ModelConfig.MAX_WIDTH + ", found " + shape);
    }
    long n = shape.stream().reduce(1L, (a, b) -> a * b);
    float[] data = new float[Math.toIntExact(n)];
    int[] filled = {0};
    flatten(value, shape.size(), data, filled, where);
    if (filled[0] != n) {
      throw new IllegalArgumentException(where + ": tensor value is ragged (" + filled[0] + " values for shape "
          + shape + ")");
    }
    return new Weight(shape.stream().mapToLong(Long::longValue).toArray(), data);
  }

  private static void flatten(JsonElement e, int depth, float[] out, int[] filled, String where) {
    if (depth == 0) {
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber() || filled[0] >= out.length) {
        throw new IllegalArgumentException(where + ": tensor value holds " + e + " where a number was expected");
      }
      out[filled[0]++] = e.getAsFloat();
      return;
    }
    if (!e.isJsonArray()) {
      throw new IllegalArgumentException(where + ": tensor value is ragged");
    }
    for (JsonElement x : e.getAsJsonArray()) {
      flatten(x, depth - 1, out, filled, where);
    }
  }

  private static Double firstConfigNumber(JsonArray layers, String className, String key) {
    for (JsonElement l : layers) {
      JsonObject layer = l.getAsJsonObject();
      if (className.equals(string(layer.get("class_name"))) && layer.get("config") instanceof JsonObject c
          && c.get(key) != null && c.get(key).isJsonPrimitive()) {
        return c.get(key).getAsDouble();
      }
    }
    return null;
  }

  /** The file's model.layers classes must be the reference network's, in order. */
  private static void checkArchitecture(JsonArray layers, ModelConfig config, String where) {
    List<String> found = new ArrayList<>();
    for (JsonElement l : layers) {
      JsonObject layer = l.getAsJsonObject();
      String module = string(layer.get("module"));
      if (module != null && module.startsWith("keras.src.ops")) {
        continue;
      }
      found.add(string(layer.get("class_name")));
    }
    List<String> expected = ReferenceGraph.of(config).modelLayers().stream().map(KerasGraph.Layer::className).toList();
    if (!found.equals(expected)) {
      int i = 0;
      while (i < Math.min(found.size(), expected.size()) && found.get(i).equals(expected.get(i))) {
        i++;
      }
      throw new IllegalArgumentException(where + ": another architecture than the reference separation network: "
          + "model.layers[" + i + "] is " + (i < found.size() ? found.get(i) : "missing") + ", expected "
          + (i < expected.size() ? expected.get(i) : "no more layers") + " (" + found.size() + " layers, expected "
          + expected.size() + ")");
    }
  }

  private static String string(JsonElement e) {
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }
}
