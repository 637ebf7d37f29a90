package dev.bss.train.cli;

import dev.bss.train.io.PngImages;
import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.interop.numpy.Npy;
import dev.bss.interop.numpy.NpyArray;
import dev.bss.model.Weight;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faulty input through the command line, one test per class: data loss, integrity (CRC), NaN in compare, exit
 * codes, PNG types, overflowing options, and the mixture checks. Each asserts the exit status, the one-line message
 * and that nothing was lost or left behind.
 */
class ReliabilityCommandsTest {

  @TempDir static Path tmp;

  private static Path tiny;
  private static Path keras;
  private static Path checkpoint;

  @BeforeAll
  static void setUp() {
    tiny = InteropCommandsTest.fixture("tiny");
    keras = tiny.resolve("reference.keras");
    checkpoint = tmp.resolve("ckpt");
    assertEquals(0, bss("import", keras.toString(), "--to", checkpoint.toString()).exit());
  }

  private static void assertOneLine(BssRun r, int exit, String... fragments) {
    assertEquals(exit, r.exit(), r.out() + r.err());
    String line = r.err().strip();
    assertEquals(1, line.lines().count(), "one line: " + line);
    for (String f : fragments) {
      assertTrue(line.contains(f), "expected '" + f + "' in: " + line);
    }
  }

  private static String[] compare(Path model, Path inputs, Path e1, Path e2, String... extra) {
    List<String> a = new ArrayList<>(List.of("compare", "--model", model.toString(), "--inputs", inputs.toString(),
        "--expected", e1.toString(), e2.toString()));
    a.addAll(List.of(extra));
    return a.toArray(String[]::new);
  }

  private static List<String> hiddenEntries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
    }
  }

  // ---- data loss ----

  @Test
  void importAndExportNeverReplaceWhatTheyDidNotCreate() throws IOException {
    Path kept = tmp.resolve("user-folder");
    Files.createDirectories(kept);
    Files.writeString(kept.resolve("notes.txt"), "mine");
    assertOneLine(bss("import", keras.toString(), "--to", kept.toString()), 2,
        "--to " + kept, "already exists and is not empty; pass --overwrite");
    assertEquals("mine", Files.readString(kept.resolve("notes.txt")));
    assertOneLine(bss("export", keras.toString(), "--format", "npz", "--out", kept.toString()), 2, "--overwrite");
    assertEquals("mine", Files.readString(kept.resolve("notes.txt")));

    // The source itself, or a folder holding it, is refused even with --overwrite.
    byte[] weights = Files.readAllBytes(checkpoint.resolve("weights.npz"));
    assertOneLine(bss("export", checkpoint.toString(), "--format", "npz", "--out", checkpoint.toString(),
        "--overwrite"), 2, "is the source model");
    assertOneLine(bss("export", checkpoint.toString(), "--format", "savedmodel", "--out", tmp.toString(),
        "--overwrite"), 2, "contains the source model");
    Files.writeString(checkpoint.resolve("notes.keras"), "part of the source folder");
    assertOneLine(bss("export", checkpoint.toString(), "--format", "keras", "--out",
        checkpoint.resolve("notes.keras").toString(), "--overwrite"), 2, "is part of the source model");
    assertEquals("part of the source folder", Files.readString(checkpoint.resolve("notes.keras")));
    Files.delete(checkpoint.resolve("notes.keras"));
    Path keptKeras = tmp.resolve("kept.keras");
    Files.copy(keras, keptKeras);
    assertOneLine(bss("export", keptKeras.toString(), "--format", "keras", "--out", keptKeras.toString(),
        "--overwrite"), 2, "is the source model");
    assertArrayEquals(weights, Files.readAllBytes(checkpoint.resolve("weights.npz")));
    assertArrayEquals(Files.readAllBytes(keras), Files.readAllBytes(keptKeras));

    // An existing file is not replaced without --overwrite; a file where a folder is to go is named as such.
    Path file = tmp.resolve("existing.keras");
    Files.writeString(file, "user data");
    assertOneLine(bss("export", checkpoint.toString(), "--format", "keras", "--out", file.toString()), 2,
        "already exists; pass --overwrite");
    assertEquals("user data", Files.readString(file));
    assertOneLine(bss("export", checkpoint.toString(), "--format", "npz", "--out", file.toString()), 2,
        "exists and is a file; this format writes a folder");
    assertOneLine(bss("import", keras.toString(), "--to", file.resolve("sub").toString()), 2, "is a file, not a folder");

    // With --overwrite, a target the command may replace is replaced, and nothing temporary is left behind.
    assertEquals(0, bss("export", checkpoint.toString(), "--format", "keras", "--out", file.toString(),
        "--overwrite").exit());
    assertEquals(0, bss("import", keras.toString(), "--to", kept.toString(), "--overwrite").exit());
    assertTrue(Files.isRegularFile(kept.resolve("weights.npz")));
    assertEquals(List.of(), hiddenEntries(tmp), "no temporary files left");
    // An empty folder is not "anything": it may be written into without --overwrite.
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertEquals(0, bss("import", keras.toString(), "--to", empty.toString()).exit());
  }

  // ---- integrity ----

  @Test
  void aChangedByteInACheckpointIsRefusedByItsCrc() throws IOException {
    Path damaged = tmp.resolve("damaged-ckpt");
    Files.createDirectories(damaged);
    Files.copy(checkpoint.resolve("model.json"), damaged.resolve("model.json"));
    byte[] bytes = Files.readAllBytes(checkpoint.resolve("weights.npz"));
    bytes[bytes.length / 2] ^= 0x10; // inside some float data of a stored member
    Files.write(damaged.resolve("weights.npz"), bytes);
    assertOneLine(bss(compare(damaged, tiny.resolve("inputs.npy"), tiny.resolve("expected_decoded1.npy"),
        tiny.resolve("expected_decoded2.npy"))), 2, "weights.npz", "CRC-32 mismatch");
  }

  @Test
  void nanInExpectedOutputsIsAMismatchAndNanInInputsIsBadInput() throws IOException {
    Weight e1 = Npy.readFloats(tiny.resolve("expected_decoded1.npy"));
    Path nan = tmp.resolve("nan.npy");
    float[] nans = new float[e1.data().length];
    Arrays.fill(nans, Float.NaN);
    Npy.writeFloats(nan, new Weight(e1.shape(), nans));
    BssRun r = bss(compare(keras, tiny.resolve("inputs.npy"), nan, tiny.resolve("expected_decoded2.npy")));
    assertEquals(1, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("BEYOND TOLERANCE"), r.out());
    assertTrue(r.out().contains("decoded1: max abs diff inf") || r.out().contains("Infinity"), r.out());

    Weight inputs = Npy.readFloats(tiny.resolve("inputs.npy"));
    float[] bad = inputs.data().clone();
    bad[3 * 1024 + 5 * 32 + 7] = Float.NaN;
    Path badInputs = tmp.resolve("nan-inputs.npy");
    Npy.writeFloats(badInputs, new Weight(inputs.shape(), bad));
    assertOneLine(bss(compare(keras, badInputs, tiny.resolve("expected_decoded1.npy"),
        tiny.resolve("expected_decoded2.npy"))), 2, "--inputs " + badInputs, "mixture 3 holds NaN at pixel (5, 7)");
  }

  @Test
  void compareExitsTwoForEveryBadInputAndNamesTheFile() throws IOException {
    Path e1 = tiny.resolve("expected_decoded1.npy");
    Path e2 = tiny.resolve("expected_decoded2.npy");
    Path inputs = tiny.resolve("inputs.npy");
    assertOneLine(bss(compare(keras, tmp, e1, e2)), 2, "--inputs " + tmp, "is a directory");
    assertOneLine(bss(compare(keras, inputs, tmp, e2)), 2, "--expected", "is a directory");
    assertOneLine(bss(compare(keras, inputs, e1, e2, "--atol", "1e400")), 2, "--atol");

    // malformed config JSON inside a .keras: layers is a list of numbers
    Path malformed = tmp.resolve("malformed.keras");
    rewriteConfig(keras, malformed, "{\"class_name\": \"Functional\", \"config\": {\"layers\": [1, 2, 3]}}");
    assertOneLine(bss(compare(malformed, inputs, e1, e2)), 2, malformed.toString(), "config.json");
    Path notJson = tmp.resolve("notjson.keras");
    rewriteConfig(keras, notJson, "{\"class_name\": ");
    assertOneLine(bss(compare(notJson, inputs, e1, e2)), 2, notJson.toString(), "config.json: not valid JSON");

    // a legacy .h5 whose model_config attribute is not a JSON object
    byte[] legacy = Files.readAllBytes(tiny.resolve("reference_legacy.h5"));
    byte[] marker = "{\"module\": \"keras\", \"class_name\": \"Functional\"".getBytes(StandardCharsets.US_ASCII);
    int at = HostileInputsTest.indexOf(legacy, marker);
    if (at < 0) {
      marker = "{\"class_name\": \"Functional\"".getBytes(StandardCharsets.US_ASCII);
      at = HostileInputsTest.indexOf(legacy, marker);
    }
    assertTrue(at >= 0, "model_config found in the legacy fixture");
    legacy[at] = '[';
    Path badLegacy = tmp.resolve("bad_config.h5");
    Files.write(badLegacy, legacy);
    assertOneLine(bss(compare(badLegacy, inputs, e1, e2)), 2, badLegacy.toString(), "model_config");
  }

  // ---- PNG types ----

  @Test
  void everyPngTypeDecodesToItsGrayValueAndOtherFormatsAreRefused() throws IOException {
    // An opaque mid-gray pixel (128) at (3, 5) in each PNG type reads as 128 / 255.
    float expected = 128 / 255f;
    List<BufferedImage> images = new ArrayList<>();
    for (int type : new int[] {BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_USHORT_GRAY,
        BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_3BYTE_BGR}) {
      BufferedImage img = new BufferedImage(32, 32, type);
      if (type == BufferedImage.TYPE_BYTE_GRAY) {
        img.getRaster().setSample(3, 5, 0, 128); // setRGB would go through a linear-gray conversion
      } else if (type == BufferedImage.TYPE_USHORT_GRAY) {
        img.getRaster().setSample(3, 5, 0, 128 * 257);
      } else {
        img.setRGB(3, 5, 0xFF808080);
      }
      images.add(img);
    }
    // a palette PNG (with 128 in its palette)
    byte[] levels = {0, (byte) 128};
    BufferedImage indexed = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_INDEXED,
        new java.awt.image.IndexColorModel(8, 2, levels, levels, levels));
    indexed.getRaster().setSample(3, 5, 0, 1);
    images.add(indexed);
    ComponentColorModel grayAlpha = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), true, false,
        Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
    WritableRaster raster = grayAlpha.createCompatibleWritableRaster(32, 32);
    raster.setPixel(3, 5, new int[] {128, 255});
    raster.setPixel(4, 5, new int[] {200, 0}); // fully transparent: composited over black
    images.add(new BufferedImage(grayAlpha, raster, false, null));
    for (int i = 0; i < images.size(); i++) {
      Path png = tmp.resolve("type" + i + ".png");
      assertTrue(ImageIO.write(images.get(i), "png", png.toFile()));
      float[] v = PngImages.readMixture(png, "IMAGE " + png);
      assertEquals(expected, v[5 * 32 + 3], 1.5f / 255, "PNG " + i + " (" + images.get(i) + ")");
      assertEquals(0f, v[0], 1e-6f, "PNG " + i);
      if (i == images.size() - 1) {
        assertEquals(0f, v[5 * 32 + 4], 1e-6f, "transparent pixel");
      }
    }
    // 1-bit (black and white) PNG: white is 1.
    BufferedImage binary = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_BINARY);
    binary.getRaster().setSample(6, 2, 0, 1);
    Path p1 = tmp.resolve("binary.png");
    ImageIO.write(binary, "png", p1.toFile());
    assertEquals(1f, PngImages.readMixture(p1, "IMAGE " + p1)[2 * 32 + 6], 1e-6f);
    assertEquals(0f, PngImages.readMixture(p1, "IMAGE " + p1)[2 * 32 + 7], 1e-6f);
    // 16-bit gray keeps its precision; 28x28 is padded by 2.
    BufferedImage gray16 = new BufferedImage(28, 28, BufferedImage.TYPE_USHORT_GRAY);
    gray16.getRaster().setSample(0, 0, 0, 40000);
    Path p16 = tmp.resolve("gray16.png");
    ImageIO.write(gray16, "png", p16.toFile());
    assertEquals(40000 / 65535f, PngImages.readMixture(p16, "IMAGE " + p16)[2 * 32 + 2], 1e-6f);
    // Other formats, a directory and a huge header are refused with one line each.
    BufferedImage rgb = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
    for (String format : new String[] {"bmp", "gif", "jpeg"}) {
      Path f = tmp.resolve("image." + format);
      assertTrue(ImageIO.write(rgb, format, f.toFile()), format);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PngImages.readMixture(f, "IMAGE " + f));
      assertTrue(e.getMessage().contains("expected a PNG image, found a " + format.toUpperCase()),
          e.getMessage());
    }
    Path out = tmp.resolve("png-out");
    assertOneLine(bss("separate", "--model", keras.toString(), tmp.toString(), "--out", out.toString()), 2,
        "IMAGE " + tmp, "is a directory");
    Path huge = tmp.resolve("huge.png");
    Files.write(huge, HostileInputsTest.pngHeader(20000, 20000));
    assertOneLine(bss("separate", "--model", keras.toString(), huge.toString(), "--out", out.toString()), 2,
        "found 20000x20000");
    assertFalse(Files.exists(out));
  }

  // ---- overflow and option consistency ----

  @Test
  void overflowingNumbersAreRefusedUpFrontNamingTheOption() throws IOException {
    assertOneLine(bss("evaluate", "--model", keras.toString(), "--samples", "2000000000"), 2, "--samples",
        "2000000000 test pairs per draw need about");
    assertOneLine(bss("evaluate", "--model", keras.toString(), "--threads", "0"), 2, "--threads");
    assertOneLine(bss("bench", "--batch", "3000000"), 2, "--batch", "from 1 to 4096");
    Path config = tmp.resolve("filters-1e20.json");
    Files.writeString(config, "{\"filters\": [1e20, 16, 32]}");
    for (String command : new String[] {"summary", "bench"}) {
      assertOneLine(bss(command, "--config", config.toString()), 2, "--config " + config, "'filters[0]'");
    }
    assertOneLine(bss("import", keras.toString(), "--config", config.toString(), "--to",
        tmp.resolve("never").toString()), 2, "'filters[0]' is out of range");
    Path big = tmp.resolve("big.json");
    Files.writeString(big, "{\"filters\": [8, 16, 32], \"cbam_ratio\": 4, \"embed_dim\": 16000, \"num_heads\": 200}");
    assertOneLine(bss("summary", "--config", big.toString()), 2, "parameters, more than the");
    assertFalse(Files.exists(tmp.resolve("never")));
  }

  @Test
  void configMeansTheSameForEveryCommand() {
    Path e1 = tiny.resolve("expected_decoded1.npy");
    Path e2 = tiny.resolve("expected_decoded2.npy");
    assertEquals(0, bss(compare(keras, tiny.resolve("inputs.npy"), e1, e2, "--config", "tiny")).exit());
    // seed is resolved (not taken for a file name) and then does not fit the tiny model's weights
    assertOneLine(bss("import", keras.toString(), "--config", "seed", "--to", tmp.resolve("never-seed").toString()),
        2, "expected");
    assertOneLine(bss("export", keras.toString(), "--config", "nope.json", "--format", "npz", "--out",
        tmp.resolve("never-seed").toString()), 2, "--config: expected seed, tiny or a JSON config file");
  }

  // ---- mixtures ----

  @Test
  void uint8MixturesAreScaledOutOfRangeValuesWarnOnceAndMessagesNameTheRightFile() throws IOException {
    Weight inputs = Npy.readFloats(tiny.resolve("inputs.npy"));
    byte[] u8 = new byte[inputs.data().length];
    for (int i = 0; i < u8.length; i++) {
      u8[i] = (byte) Math.round(inputs.data()[i] * 255);
    }
    Path uint8 = tmp.resolve("uint8.npy");
    Npy.write(uint8, new NpyArray("uint8", "|u1", inputs.shape(), u8));
    MixtureInputs m = MixtureInputs.open(uint8, "--npy", null);
    float[] scaled = m.read(0, 16);
    for (int i = 0; i < scaled.length; i++) {
      assertEquals(inputs.data()[i], scaled[i], 0.5f / 255 + 1e-6f);
    }
    float[] doubled = inputs.data().clone();
    for (int i = 0; i < doubled.length; i++) {
      doubled[i] = doubled[i] * 2 + 0.01f;
    }
    Path outOfRange = tmp.resolve("range.npy");
    Npy.writeFloats(outOfRange, new Weight(inputs.shape(), doubled));
    Path out = tmp.resolve("range-out");
    BssRun r = bss("separate", "--model", keras.toString(), "--npy", outOfRange.toString(), "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    assertEquals(1, r.err().lines().filter(l -> l.startsWith("warning:")).count(), r.err());
    assertTrue(r.err().contains("values outside [0, 1]"), r.err());
    // a bad --pos-embedding is blamed on itself, not on the weights file
    Path pos = tmp.resolve("pos.npy");
    Npy.writeFloats(pos, new Weight(new long[] {1, 16, 7}, new float[16 * 7]));
    assertOneLine(bss("import", tiny.resolve("reference.weights.h5").toString(), "--pos-embedding", pos.toString(),
        "--to", tmp.resolve("never-pos").toString()), 2, "--pos-embedding " + pos);
    // --out that is a file
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    assertOneLine(bss("separate", "--model", keras.toString(), "--npy", uint8.toString(), "--out", file.toString()), 2,
        "--out " + file, "exists and is a file");
    assertEquals(List.of(), hiddenEntries(tmp), "no temporary files left");
  }

  private static void rewriteConfig(Path source, Path out, String config) throws IOException {
    try (ZipFile zip = new ZipFile(source.toFile());
        ZipOutputStream o = new ZipOutputStream(Files.newOutputStream(out))) {
      for (ZipEntry e : Collections.list(zip.entries())) {
        byte[] content = e.getName().equals("config.json") ? config.getBytes(StandardCharsets.UTF_8)
            : zip.getInputStream(e).readAllBytes();
        o.putNextEntry(new ZipEntry(e.getName()));
        o.write(content);
        o.closeEntry();
      }
    }
  }
}
