package dev.bss.train.cli;

import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bss.interop.numpy.Npy;
import dev.bss.interop.numpy.Npz;
import dev.bss.model.Weight;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** bss compare / import / export / separate on the Keras fixtures, and every bad input with exit status 2. */
class InteropCommandsTest {

  @TempDir static Path tmp;

  private static Path tiny;



  static Path fixture(String name) {
    String root = System.getProperty("bss.root");
    if (root != null) {
      Path local = Path.of(root, "test-data", "keras-reference", name);
      if (Files.isRegularFile(local.resolve("reference.keras")) && Files.isRegularFile(local.resolve("inputs.npy"))) {
        return local;
      }
    }
    String shared = System.getProperty("bss.shared", "../../shared");
    Path p = Path.of(shared, "keras-reference", name).toAbsolutePath().normalize();
    assumeTrue(Files.isRegularFile(p.resolve("reference.keras")), "Keras fixture '" + name + "' not found at " + p);
    return p;
  }

  @BeforeAll
  static void locate() {
    tiny = fixture("tiny");
  }

  private static String[] compareArgs(Path dir, Path model, String... extra) {
    List<String> args = new ArrayList<>(List.of("compare", "--model", model.toString(),
        "--inputs", dir.resolve("inputs.npy").toString(),
        "--expected", dir.resolve("expected_decoded1.npy").toString(), dir.resolve("expected_decoded2.npy").toString()));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  private static void assertWithinTolerance(Path dir, Path model, String... extra) {
    BssRun r = bss(compareArgs(dir, model, extra));
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("WITHIN TOLERANCE"), r.out());
  }

  @Test
  void evaluateTakesTheSharedModelFileOptions() {
    Path h5 = tiny.resolve("reference.weights.h5");
    // Keras does not store the position embedding in a .weights.h5: evaluate asks for --pos-embedding ...
    BssRun missing = bss("evaluate", "--model", h5.toString(), "--draws", "1", "--samples", "4", "--data",
        "embedded", "--device", "cpu");
    assertEquals(2, missing.exit(), missing.out() + missing.err());
    assertTrue(missing.err().contains("--pos-embedding"), missing.err());
    // ... and takes it, with --config, like every command that reads a model file.
    BssRun r = bss("evaluate", "--model", h5.toString(), "--pos-embedding", tiny.resolve("pos_embedding.npy").toString(),
        "--config", "tiny", "--draws", "1", "--samples", "4", "--data", "embedded", "--device", "cpu", "--json");
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("\"model_description\": \"weights-h5 " + h5), r.out());
  }

  @Test
  void compareEveryTinyFormatWithinTolerance() {
    assertWithinTolerance(tiny, tiny.resolve("reference.keras"));
    assertWithinTolerance(tiny, tiny.resolve("reference.weights.h5"), "--pos-embedding",
        tiny.resolve("pos_embedding.npy").toString());
    assertWithinTolerance(tiny, tiny.resolve("reference_legacy.h5"));
  }

  @Tag("slow")
  @ParameterizedTest
  @ValueSource(strings = {"reference.keras", "reference.weights.h5", "reference_legacy.h5"})
  void compareEveryFullFormatWithinTolerance(String file) {
    Path full = fixture("full");
    assertWithinTolerance(full, full.resolve(file), "--pos-embedding", full.resolve("pos_embedding.npy").toString());
  }

  @Test
  void compareJsonAndBeyondTolerance() {
    BssRun json = bss(compareArgs(tiny, tiny.resolve("reference.keras"), "--json"));
    assertEquals(0, json.exit());
    assertTrue(json.out().contains("\"within_tolerance\": true") && json.out().contains("\"max_rel_diff\""),
        json.out());
    BssRun strict = bss(compareArgs(tiny, tiny.resolve("reference.keras"), "--atol", "1e-12"));
    assertEquals(1, strict.exit(), strict.out());
    assertTrue(strict.out().contains("BEYOND TOLERANCE"), strict.out());
  }

  @Test
  void importExportRoundTripsEveryFormat() {
    Path checkpoint = tmp.resolve("imported");
    assertEquals(0, bss("import", tiny.resolve("reference.keras").toString(), "--to", checkpoint.toString()).exit());
    assertTrue(Files.isRegularFile(checkpoint.resolve("weights.npz")) && Files.isRegularFile(checkpoint.resolve("model.json")));
    Map<String, Path> outputs = new LinkedHashMap<>();
    outputs.put("savedmodel", tmp.resolve("exported_savedmodel"));
    outputs.put("keras", tmp.resolve("exported.keras"));
    outputs.put("weights-h5", tmp.resolve("exported.weights.h5"));
    outputs.put("npz", tmp.resolve("exported_checkpoint"));
    for (Map.Entry<String, Path> e : outputs.entrySet()) {
      BssRun r = bss("export", checkpoint.toString(), "--format", e.getKey(), "--out", e.getValue().toString());
      assertEquals(0, r.exit(), r.err());
      assertWithinTolerance(tiny, e.getValue());
    }
    // SavedModel back to a checkpoint, then to Keras again.
    Path again = tmp.resolve("from_savedmodel");
    assertEquals(0, bss("import", outputs.get("savedmodel").toString(), "--to", again.toString()).exit());
    assertWithinTolerance(tiny, again);
  }

  @Test
  void separateWritesTwoImagesPerInputAndAGrid() throws IOException {
    Weight inputs = Npy.readFloats(tiny.resolve("inputs.npy"));
    Path three = tmp.resolve("three.npy");
    Npy.writeFloats(three, new Weight(new long[] {3, 32, 32, 1}, Arrays.copyOf(inputs.data(), 3 * 1024)));
    Path out = tmp.resolve("separated");
    BssRun r = bss("separate", "--model", tiny.resolve("reference.keras").toString(), "--npy", three.toString(),
        "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(9, files.count());
    }
    assertTrue(Files.isRegularFile(out.resolve("three_0002_decoded2.png")));
    // The outputs as arrays too, in input order: the Keras outputs of the first three fixture inputs.
    Weight d1 = Npy.readFloats(out.resolve("decoded1.npy"));
    Weight d2 = Npy.readFloats(out.resolve("decoded2.npy"));
    assertArrayEquals(new long[] {3, 32, 32, 1}, d1.shape());
    float[] e1 = Npy.readFloats(tiny.resolve("expected_decoded1.npy")).data();
    float[] e2 = Npy.readFloats(tiny.resolve("expected_decoded2.npy")).data();
    for (int k = 0; k < 3 * 1024; k++) {
      assertEquals(e1[k], d1.data()[k], 1e-4, "decoded1[" + k + "]");
      assertEquals(e2[k], d2.data()[k], 1e-4, "decoded2[" + k + "]");
    }
    // --no-png: the arrays only.
    Path arraysOnly = tmp.resolve("arrays-only");
    assertEquals(0, bss("separate", "--model", tiny.resolve("reference.keras").toString(), "--npy",
        three.toString(), "--no-png", "--out", arraysOnly.toString()).exit());
    try (Stream<Path> files = Files.list(arraysOnly)) {
      assertEquals(List.of("decoded1.npy", "decoded2.npy"), files.map(f -> f.getFileName().toString()).sorted()
          .toList());
    }
    assertEquals(d1, Npy.readFloats(arraysOnly.resolve("decoded1.npy")));
    // A PNG input (written from the first mixture) gives the same decoded1 as the npy row.
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(32, 32, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    for (int k = 0; k < 1024; k++) {
      img.getRaster().setSample(k % 32, k / 32, 0, Math.round(inputs.data()[k] * 255));
    }
    Path png = tmp.resolve("mix.png");
    javax.imageio.ImageIO.write(img, "png", png.toFile());
    Path out2 = tmp.resolve("separated_png");
    assertEquals(0, bss("separate", "--model", tiny.resolve("reference.keras").toString(), png.toString(),
        "--out", out2.toString()).exit());
    assertTrue(Files.isRegularFile(out2.resolve("mix_decoded1.png")) && Files.isRegularFile(out2.resolve("grid.png")));
  }

  // ---- bad input: one line, exit status 2, no output ----

  private static void assertBadInput(BssRun r, String... fragments) {
    assertEquals(2, r.exit(), r.out() + r.err());
    String line = r.err().strip();
    assertEquals(1, line.lines().count(), "one line: " + line);
    for (String f : fragments) {
      assertTrue(line.contains(f), "expected '" + f + "' in: " + line);
    }
  }

  @Test
  void nonHdf5AndTruncatedH5() throws IOException {
    Path text = tmp.resolve("text.weights.h5");
    Files.writeString(text, "not hdf5 at all");
    assertBadInput(bss(compareArgs(tiny, text)), "not an HDF5 file", text.toString());
    Path legacy = tmp.resolve("text.h5");
    Files.writeString(legacy, "not hdf5 at all");
    assertBadInput(bss(compareArgs(tiny, legacy)), "not an HDF5 file");
    byte[] bytes = Files.readAllBytes(tiny.resolve("reference.weights.h5"));
    Path truncated = tmp.resolve("truncated.weights.h5");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
    assertBadInput(bss(compareArgs(tiny, truncated, "--pos-embedding", tiny.resolve("pos_embedding.npy").toString())),
        truncated.toString());
  }

  @Test
  void kerasFileThatIsNotAZip() throws IOException {
    Path bad = tmp.resolve("bad.keras");
    Files.writeString(bad, "PK? no");
    assertBadInput(bss(compareArgs(tiny, bad)), "not a zip archive");
  }

  @Test
  void wrongShapeAndMissingVariable() throws IOException {
    Path ckpt = tmp.resolve("for_bad_weights");
    assertEquals(0, bss("import", tiny.resolve("reference.keras").toString(), "--to", ckpt.toString()).exit());
    Map<String, Weight> weights = new LinkedHashMap<>(Npz.readFloats(ckpt.resolve("weights.npz")));
    Weight k = weights.get("conv2d_transpose_3/kernel");
    long[] s = k.shape();
    weights.put("conv2d_transpose_3/kernel", new Weight(new long[] {s[0], s[1], s[3], s[2]}, k.data()));
    Path badShape = tmp.resolve("bad_shape");
    Files.createDirectories(badShape);
    Npz.writeFloats(badShape.resolve("weights.npz"), weights);
    Files.copy(ckpt.resolve("model.json"), badShape.resolve("model.json"));
    assertBadInput(bss(compareArgs(tiny, badShape)),
        "conv2d_transpose_3/kernel: expected [3, 3, " + s[2] + ", " + s[3] + "], found [3, 3, " + s[3] + ", " + s[2] + "]");
    weights.put("conv2d_transpose_3/kernel", k);
    weights.remove("batch_normalization_7/moving_variance");
    Path missing = tmp.resolve("missing_var");
    Files.createDirectories(missing);
    Npz.writeFloats(missing.resolve("weights.npz"), weights);
    Files.copy(ckpt.resolve("model.json"), missing.resolve("model.json"));
    Path out = tmp.resolve("never_written.keras");
    assertBadInput(bss("export", missing.toString(), "--format", "keras", "--out", out.toString()),
        "missing: batch_normalization_7/moving_variance");
    assertFalse(Files.exists(out));
  }

  @Test
  void savedModelWithoutServingDefault() throws IOException {
    Path dir = tmp.resolve("unsigned_savedmodel");
    try (org.tensorflow.Graph g = new org.tensorflow.Graph(); org.tensorflow.Session s = new org.tensorflow.Session(g)) {
      org.tensorflow.op.Ops tf = org.tensorflow.op.Ops.create(g);
      var x = tf.placeholder(org.tensorflow.types.TFloat32.class);
      var v = tf.variable(tf.constant(2f));
      s.runner().addTarget(tf.assign(v, tf.constant(2f))).run();
      var y = tf.math.mul(x, v);
      org.tensorflow.SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withSignature(org.tensorflow.Signature.builder("first").input("x", x).output("y", y).build())
          .withSignature(org.tensorflow.Signature.builder("second").input("x", x).output("y", y).build())
          .export();
    }
    assertBadInput(bss(compareArgs(tiny, dir)), "no serving_default signature");
  }

  @Test
  void npyWithWrongHeaderOrDtype() throws IOException {
    Path garbage = tmp.resolve("garbage.npy");
    Files.writeString(garbage, "this is not numpy");
    assertBadInput(bss("compare", "--model", tiny.resolve("reference.keras").toString(), "--inputs", garbage.toString(),
        "--expected", tiny.resolve("expected_decoded1.npy").toString(), tiny.resolve("expected_decoded2.npy").toString()),
        "--inputs", "not a NumPy .npy file");
    Path ints = tmp.resolve("ints.npy");
    Files.write(ints, npyBytes("<c8", "(1, 32, 32, 1)", new byte[8 * 1024]));
    assertBadInput(bss("compare", "--model", tiny.resolve("reference.keras").toString(), "--inputs", ints.toString(),
        "--expected", tiny.resolve("expected_decoded1.npy").toString(), tiny.resolve("expected_decoded2.npy").toString()),
        "dtype");
  }

  @Test
  void inputOfWrongShapeLeavesNoOutput() throws IOException {
    Path wrong = tmp.resolve("wrong_shape.npy");
    Npy.writeFloats(wrong, new Weight(new long[] {2, 28, 28, 1}, new float[2 * 28 * 28]));
    Path out = tmp.resolve("no_output");
    assertBadInput(bss("separate", "--model", tiny.resolve("reference.keras").toString(), "--npy", wrong.toString(),
        "--out", out.toString()), "expected shape [N, 32, 32, 1]", "[2, 28, 28, 1]");
    assertFalse(Files.exists(out));
    assertBadInput(bss(compareArgs(tiny, tiny.resolve("reference.keras")).length == 0 ? new String[0]
        : new String[] {"compare", "--model", tiny.resolve("reference.keras").toString(), "--inputs", wrong.toString(),
            "--expected", wrong.toString(), wrong.toString()}), "expected shape [N, 32, 32, 1]");
  }

  /** A version 1.0 .npy file with the given dtype and shape text. */
  static byte[] npyBytes(String descr, String shape, byte[] data) {
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int total = 10 + header.length() + 1;
    int pad = (64 - total % 64) % 64;
    header = header + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
    return b.array();
  }
}
