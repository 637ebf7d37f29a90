package dev.bss.interop.keras;

import dev.bss.model.keras.ReferenceGraph;
import dev.bss.interop.LoadedModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bss.interop.Fixtures;
import dev.bss.interop.numpy.Npy;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Keras files of the fixtures read to the same weights; written files read back and match Keras's structure. */
class KerasFilesTest {

  @TempDir Path tmp;

  /** The fixture's weights through its own variables.json mapping (independent of the layout code). */
  private static WeightSet fixtureWeights(Path dir) throws IOException {
    Map<String, Weight> datasets = KerasWeightsH5.readDatasets(dir.resolve("reference.weights.h5"));
    JsonObject manifest = JsonParser.parseString(Files.readString(dir.resolve("variables.json"))).getAsJsonObject();
    WeightSet w = new WeightSet();
    for (JsonElement v : manifest.getAsJsonArray("variables")) {
      JsonObject o = v.getAsJsonObject();
      w.put(o.get("path").getAsString(), datasets.get(o.get("weights_h5").getAsString()));
    }
    w.put(WeightSet.POSITION_EMBEDDING, Npy.readFloats(dir.resolve("pos_embedding.npy")));
    return w;
  }

  private static ModelConfig fixtureConfig(String name) {
    return name.equals("tiny") ? ModelConfig.tiny() : ModelConfig.seed();
  }

  private static void assertSameWeights(WeightSet expected, WeightSet actual) {
    assertEquals(expected.paths(), actual.paths().stream().filter(expected::contains)
        .collect(java.util.stream.Collectors.toCollection(java.util.LinkedHashSet::new)));
    assertEquals(expected.size(), actual.size());
    for (String p : expected.paths()) {
      assertEquals(expected.get(p), actual.get(p), p);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "full"})
  void weightsH5ReadsWithInferredConfig(String name) throws IOException {
    Path dir = Fixtures.kerasReference(name);
    Weight pos = Npy.readFloats(dir.resolve("pos_embedding.npy"));
    LoadedModel read = KerasWeightsH5.read(dir.resolve("reference.weights.h5"), null, pos);
    assertEquals(fixtureConfig(name), read.config());
    assertSameWeights(fixtureWeights(dir), read.weights());
  }

  @Test
  void aWeightsH5WithoutItsPositionEmbeddingIsRefusedInTheValidatorsFormat() throws IOException {
    Path file = Fixtures.kerasReference("tiny").resolve("reference.weights.h5");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KerasWeightsH5.read(file, null, null));
    // The one message format of WeightValidation: the file, what the weights must fit, then each kind of problem.
    assertTrue(e.getMessage().startsWith(file + ": weights do not fit the network " + WeightCheck.describe(
        ModelConfig.tiny()) + "; 1 missing: pos_embedding (not stored in Keras weight files"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "full"})
  void kerasArchiveReadsWeightsAndPositionEmbedding(String name) throws IOException {
    Path dir = Fixtures.kerasReference(name);
    LoadedModel read = KerasArchive.read(dir.resolve("reference.keras"), null);
    assertEquals(fixtureConfig(name), read.config());
    assertSameWeights(fixtureWeights(dir), read.weights());
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "full"})
  void legacyH5ReadsByLayerName(String name) throws IOException {
    Path dir = Fixtures.kerasReference(name);
    LoadedModel read = LegacyKerasH5.read(dir.resolve("reference_legacy.h5"), null, null);
    assertEquals(fixtureConfig(name), read.config());
    assertSameWeights(fixtureWeights(dir), read.weights());
  }

  /** tf.keras 2.x legacy files name variables with a ":0" suffix and carry no __tensor__ embedding. */
  @Test
  void legacyH5OfTfKeras2NamesWithSuffix() throws IOException {
    Path dir = Fixtures.kerasReference("tiny");
    WeightSet weights = fixtureWeights(dir);
    Path file = tmp.resolve("tf_keras2.h5");
    java.util.Map<String, java.util.List<String>> byLayer = new java.util.LinkedHashMap<>();
    for (String p : weights.paths()) {
      if (!p.equals(WeightSet.POSITION_EMBEDDING)) {
        byLayer.computeIfAbsent(p.substring(0, p.indexOf('/')), k -> new java.util.ArrayList<>()).add(p);
      }
    }
    try (io.jhdf.WritableHdfFile hdf = io.jhdf.HdfFile.write(file)) {
      io.jhdf.api.WritableGroup root = hdf.putGroup("model_weights");
      root.putAttribute("layer_names", byLayer.keySet().toArray(String[]::new));
      for (java.util.Map.Entry<String, java.util.List<String>> layer : byLayer.entrySet()) {
        io.jhdf.api.WritableGroup g = root.putGroup(layer.getKey());
        g.putAttribute("weight_names", layer.getValue().stream().map(p -> p + ":0").toArray(String[]::new));
        java.util.Map<String, io.jhdf.api.WritableGroup> made = new java.util.HashMap<>();
        for (String p : layer.getValue()) {
          String name = p + ":0";
          int slash = name.lastIndexOf('/');
          Hdf5.group(g, made, name.substring(0, slash)).putDataset(name.substring(slash + 1), Hdf5.nested(weights.get(p)));
        }
      }
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LegacyKerasH5.read(file, null, null));
    assertTrue(e.getMessage().contains("--pos-embedding"), e.getMessage());
    LoadedModel read = LegacyKerasH5.read(file, null, weights.get(WeightSet.POSITION_EMBEDDING));
    assertEquals(ModelConfig.tiny(), read.config());
    for (String p : weights.paths()) {
      assertEquals(weights.get(p), read.weights().get(p), p);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "full"})
  void writtenConfigJsonIsKerasConfigJson(String name) throws IOException {
    Path dir = Fixtures.kerasReference(name);
    WeightSet weights = fixtureWeights(dir);
    JsonObject written = KerasConfigJson.of(ReferenceGraph.of(fixtureConfig(name)),
        weights.get(WeightSet.POSITION_EMBEDDING), ReferenceGraph.MODEL_NAME);
    JsonObject reparsed = JsonParser.parseString(new GsonBuilder().serializeNulls().create().toJson(written))
        .getAsJsonObject();
    JsonObject expected = KerasArchive.readConfigJson(dir.resolve("reference.keras"));
    normalize(reparsed);
    normalize(expected);
    JsonArray a = expected.getAsJsonObject("config").getAsJsonArray("layers");
    JsonArray b = reparsed.getAsJsonObject("config").getAsJsonArray("layers");
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertEquals(a.get(i), b.get(i), "layer " + i);
    }
    assertEquals(expected, reparsed);
  }

  /** Object ids differ between Python processes; everything else must be equal. */
  private static void normalize(JsonElement e) {
    if (e.isJsonObject()) {
      JsonObject o = e.getAsJsonObject();
      if (o.has("shared_object_id")) {
        o.addProperty("shared_object_id", 0);
      }
      o.entrySet().forEach(x -> normalize(x.getValue()));
    } else if (e.isJsonArray()) {
      e.getAsJsonArray().forEach(KerasFilesTest::normalize);
    }
  }

  @Test
  void weightsH5RoundTripKeepsEveryValue() throws IOException {
    Path dir = Fixtures.kerasReference("tiny");
    WeightSet weights = fixtureWeights(dir);
    Path out = tmp.resolve("copy.weights.h5");
    KerasWeightsH5.write(out, ModelConfig.tiny(), weights);
    LoadedModel back = KerasWeightsH5.read(out, null, null); // embedding comes from the file itself
    assertEquals(ModelConfig.tiny(), back.config());
    assertSameWeights(weights, back.weights());
    // Every dataset Keras wrote exists in ours, with the same shape.
    Map<String, Weight> keras = KerasWeightsH5.readDatasets(dir.resolve("reference.weights.h5"));
    Map<String, Weight> ours = KerasWeightsH5.readDatasets(out);
    for (Map.Entry<String, Weight> e : keras.entrySet()) {
      assertArrayEquals(e.getValue().shape(), ours.get(e.getKey()).shape(), e.getKey());
    }
    assertEquals(keras.size() + 1, ours.size()); // plus bss/pos_embedding
  }

  @Test
  void kerasArchiveRoundTrip() throws IOException {
    Path dir = Fixtures.kerasReference("tiny");
    WeightSet weights = fixtureWeights(dir);
    Path out = tmp.resolve("copy.keras");
    KerasArchive.write(out, ModelConfig.tiny(), weights);
    LoadedModel back = KerasArchive.read(out, null);
    assertEquals(ModelConfig.tiny(), back.config());
    assertSameWeights(weights, back.weights());
    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(out.toFile())) {
      assertEquals(3, zip.size(), "Keras reads a fourth entry as an assets folder");
    }
  }

  @Test
  void weightsH5WithoutPositionEmbeddingNeedsOne() {
    Path dir = Fixtures.kerasReference("tiny");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KerasWeightsH5.read(dir.resolve("reference.weights.h5"), null, null));
    assertTrue(e.getMessage().contains("--pos-embedding"), e.getMessage());
  }

  @Test
  void notHdf5AndTruncatedFilesAreNamed() throws IOException {
    Path text = tmp.resolve("text.weights.h5");
    Files.writeString(text, "hello, not HDF5");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KerasWeightsH5.read(text, null, null));
    assertTrue(e.getMessage().contains("not an HDF5 file") && e.getMessage().contains(text.toString()), e.getMessage());
    Path source = Fixtures.kerasReference("tiny").resolve("reference.weights.h5");
    Path truncated = tmp.resolve("truncated.weights.h5");
    byte[] bytes = Files.readAllBytes(source);
    Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 3));
    e = assertThrows(IllegalArgumentException.class, () -> KerasWeightsH5.read(truncated, null, null));
    assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
  }

  @Test
  void kerasFileThatIsNotAZipIsNamed() throws IOException {
    Path bad = tmp.resolve("bad.keras");
    Files.writeString(bad, "not a zip");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasArchive.read(bad, null));
    assertTrue(e.getMessage().contains("not a zip archive"), e.getMessage());
  }

  @Test
  void wrongShapeAndMissingVariableAreListedTogether() throws IOException {
    WeightSet weights = fixtureWeights(Fixtures.kerasReference("tiny"));
    WeightSet broken = new WeightSet();
    for (String p : weights.paths()) {
      if (p.equals("conv2d_3/bias")) {
        continue;
      }
      Weight w = weights.get(p);
      broken.put(p, p.equals("dense_8/kernel") ? new Weight(new long[] {32, 8}, w.data()) : w);
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KerasWeightsH5.write(tmp.resolve("x.weights.h5"), ModelConfig.tiny(), broken));
    assertTrue(e.getMessage().contains("dense_8/kernel: expected [8, 32], found [32, 8]"), e.getMessage());
    assertTrue(e.getMessage().contains("1 missing: conv2d_3/bias"), e.getMessage());
    assertTrue(Files.notExists(tmp.resolve("x.weights.h5")));
  }
}
