package dev.bss.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bss.interop.numpy.Npy;
import dev.bss.model.Weight;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bounded memory, measured: every kind of small hostile file (generated here) is refused with one line and exit 2 by
 * a child JVM limited to {@code -Xmx1g}, which reports the peak heap of each case; and a large {@code .npy} streams
 * through {@code separate} in a child JVM whose heap is smaller than the file.
 */
class HostileInputsTest {

  @TempDir Path tmp;

  /** Heap of the child JVM for the hostile files: the bound. */
  static final String HOSTILE_HEAP = "-Xmx1g";

  @Test
  void eachHostileFileIsRefusedInOneLineWithinOneGigabyte() throws Exception {
    Path tiny = InteropCommandsTest.fixture("tiny");
    Path keras = tiny.resolve("reference.keras");
    String[] expected = {"--expected", tiny.resolve("expected_decoded1.npy").toString(),
        tiny.resolve("expected_decoded2.npy").toString()};
    Map<String, String> fragments = new LinkedHashMap<>();
    List<String> args = new ArrayList<>();

    // 1. zip bomb: an .npz whose one member inflates to 1.5 GB of zeros (about 1.5 MB on disk)
    Path bomb = tmp.resolve("bomb.npz");
    zip(bomb, "conv2d/kernel.npy", 1536);
    addCase(args, fragments, "zip-bomb-npz", "declares 1610612736 bytes",
        "compare", "--model", bomb.toString(), "--inputs", tiny.resolve("inputs.npy").toString(), expected[0],
        expected[1], expected[2]);
    // 2. config.json bomb inside a .keras (deflated 1 GB of spaces)
    Path configBomb = tmp.resolve("config-bomb.keras");
    zip(configBomb, "config.json", 1024);
    addCase(args, fragments, "config-json-bomb", "config.json: zip member declares",
        "import", configBomb.toString(), "--to", tmp.resolve("never1").toString());
    // 3. .keras whose __tensor__ value declares [1000, 1000, 2000] in a few KB of JSON (8 GB if allocated)
    Path tensor = tmp.resolve("tensor.keras");
    replaceTensorValue(keras, tensor);
    addCase(args, fragments, "keras-tensor-shape", "position embedding (__tensor__ value): expected shape [1, 16, "
        + "embed_dim] with embed_dim <= 16384, found [1000, 1000, 2000]",
        "import", tensor.toString(), "--to", tmp.resolve("never2").toString());
    // 4. .weights.h5 whose dataset declares 2^31 values (a 20 KB file)
    Path h5 = tmp.resolve("huge.weights.h5");
    hugeDataset(h5);
    addCase(args, fragments, "weights-h5-dataset", "declares shape [2147483648]",
        "import", h5.toString(), "--to", tmp.resolve("never3").toString());
    // 5. PNG whose header says 20000 x 20000
    Path png = tmp.resolve("huge.png");
    Files.write(png, pngHeader(20000, 20000));
    addCase(args, fragments, "png-dimensions", "expected a 32x32 (or 28x28) image, found 20000x20000",
        "separate", "--model", keras.toString(), png.toString(), "--out", tmp.resolve("never4").toString());
    // 6. .npy whose header declares 10^8 mixtures in a 128-byte file
    Path npy = tmp.resolve("huge.npy");
    Files.write(npy, InteropCommandsTest.npyBytes("<f4", "(100000000, 32, 32, 1)", new byte[0]));
    addCase(args, fragments, "npy-declared-shape", "truncated data",
        "separate", "--model", keras.toString(), "--npy", npy.toString(), "--out", tmp.resolve("never5").toString());
    // 7. a model config with filters 1e20 (aborted the JVM inside TensorFlow before)
    Path config = tmp.resolve("huge-config.json");
    Files.writeString(config, "{\"filters\": [1e20, 16, 32]}");
    addCase(args, fragments, "config-overflow", "'filters[0]' is out of range",
        "compare", "--model", keras.toString(), "--config", config.toString(), "--inputs",
        tiny.resolve("inputs.npy").toString(), expected[0], expected[1], expected[2]);
    // 8. a config nested 100,000 levels deep
    Path nested = tmp.resolve("nested.json");
    Files.writeString(nested, "{\"filters\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}");
    addCase(args, fragments, "config-nesting", "not valid JSON",
        "summary", "--config", nested.toString());

    List<String> lines = runChild(HOSTILE_HEAP, args);
    Pattern line = Pattern.compile("CASE (\\S+) exit=(\\d+) peakMB=(\\d+) errLines=(\\d+) err=(.*)");
    int seen = 0;
    for (String l : lines) {
      Matcher m = line.matcher(l);
      if (!m.matches()) {
        continue;
      }
      seen++;
      String name = m.group(1);
      // The bench line the issue asks for: peak heap per hostile case.
      System.out.println("hostile " + name + ": exit " + m.group(2) + ", peak heap " + m.group(3) + " MB, "
          + m.group(5));
      assertEquals("2", m.group(2), name + ": " + l);
      assertEquals("1", m.group(4), name + ": one line: " + l);
      assertTrue(m.group(5).contains(fragments.get(name)), name + ": expected '" + fragments.get(name) + "' in " + l);
      assertTrue(Integer.parseInt(m.group(3)) < 1024, name + ": peak heap " + m.group(3) + " MB");
    }
    assertEquals(fragments.size(), seen, String.join("\n", lines));
    try (Stream<Path> left = Files.list(tmp)) {
      assertFalse(left.anyMatch(p -> p.getFileName().toString().startsWith("never")
          || p.getFileName().toString().startsWith(".never")), "nothing written for a refused input");
    }
  }

  @Test
  void aLargeNpyStreamsThroughSeparateInAHeapSmallerThanTheFile() throws Exception {
    Path tiny = InteropCommandsTest.fixture("tiny");
    int count = 3000; // 12.3 MB of float32; whole-file reading needed > 5x that in heap
    Weight inputs = Npy.readFloats(tiny.resolve("inputs.npy"));
    float[] data = new float[count * 1024];
    for (int i = 0; i < count; i++) {
      System.arraycopy(inputs.data(), (i % 16) * 1024, data, i * 1024, 1024);
    }
    Path npy = tmp.resolve("many.npy");
    Npy.writeFloats(npy, new Weight(new long[] {count, 32, 32, 1}, data));
    Path out = tmp.resolve("many-out");
    // JavaCPP caps native memory at a multiple of the heap by default; TensorFlow's own memory is not what is measured.
    List<String> lines = runChild("-Xmx40m -Dorg.bytedeco.javacpp.maxPhysicalBytes=0", List.of("large-npy", "separate", "--model",
        tiny.resolve("reference.keras").toString(), "--npy", npy.toString(), "--out", out.toString()));
    String result = lines.stream().filter(l -> l.startsWith("CASE")).findFirst().orElse(String.join("\n", lines));
    System.out.println("streaming separate of " + Files.size(npy) / 1_000_000 + " MB .npy under -Xmx40m: " + result);
    assertTrue(result.contains("exit=0"), result);
    // Two PNGs per mixture, grid.png, and the outputs as arrays (decoded1.npy, decoded2.npy), written per chunk.
    try (Stream<Path> files = Files.list(out)) {
      // two PNGs per mixture, grid.png, and --npy's decoded1.npy and decoded2.npy
      List<String> names = files.map(p -> p.getFileName().toString()).toList();
      assertEquals(2L * count + 3, names.size());
      assertTrue(names.containsAll(List.of("grid.png", "decoded1.npy", "decoded2.npy", "many_2999_decoded2.png")),
          names.subList(0, 5).toString());
    }
    assertEquals(List.of(1L * count, 32L, 32L, 1L), java.util.Arrays.stream(Npy.readHeader(out.resolve("decoded2.npy"))
        .shape()).boxed().toList());
  }

  private static void addCase(List<String> args, Map<String, String> fragments, String name, String fragment,
      String... bss) {
    if (!args.isEmpty()) {
      args.add(";;");
    }
    args.add(name);
    args.addAll(List.of(bss));
    fragments.put(name, fragment);
  }

  private List<String> runChild(String heap, List<String> args) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(List.of(heap.split(" ")));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), HostileRunner.class.getName()));
    command.addAll(args);
    Path log = tmp.resolve("child-" + System.nanoTime() + ".log");
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    int exit = p.waitFor();
    List<String> lines = Files.readAllLines(log);
    Files.delete(log);
    assertEquals(0, exit, "child JVM:\n" + String.join("\n", lines));
    return lines;
  }

  /** A zip with one deflated member of {@code megabytes} MB of zeros (spaces for JSON). */
  private static void zip(Path file, String member, int megabytes) throws IOException {
    byte[] block = new byte[1 << 20];
    if (member.endsWith(".json")) {
      java.util.Arrays.fill(block, (byte) ' ');
    }
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
      out.setLevel(Deflater.BEST_SPEED);
      out.putNextEntry(new ZipEntry(member));
      for (int i = 0; i < megabytes; i++) {
        out.write(block);
      }
      out.closeEntry();
    }
  }

  /** A copy of {@code keras} whose position embedding (__tensor__ value) declares [1000, 1000, 2000]. */
  private static void replaceTensorValue(Path keras, Path out) throws IOException {
    StringBuilder value = new StringBuilder("[[[");
    value.append("0,".repeat(1999)).append("0]").append(",[]".repeat(999)).append("]").append(",[]".repeat(999))
        .append("]");
    JsonElement hostile = JsonParser.parseString(value.toString());
    try (ZipFile zip = new ZipFile(keras.toFile());
        ZipOutputStream o = new ZipOutputStream(Files.newOutputStream(out))) {
      for (ZipEntry e : Collections.list(zip.entries())) {
        byte[] content = zip.getInputStream(e).readAllBytes();
        if (e.getName().equals("config.json")) {
          JsonObject root = JsonParser.parseString(new String(content, StandardCharsets.UTF_8)).getAsJsonObject();
          boolean replaced = false;
          for (JsonElement layer : root.getAsJsonObject("config").getAsJsonArray("layers")) {
            for (JsonElement node : layer.getAsJsonObject().getAsJsonArray("inbound_nodes")) {
              if (node.isJsonObject() && node.getAsJsonObject().get("args") instanceof JsonArray a) {
                for (JsonElement arg : a) {
                  if (arg.isJsonObject() && "__tensor__".equals(arg.getAsJsonObject().get("class_name")
                      .getAsString())) {
                    arg.getAsJsonObject().getAsJsonObject("config").add("value", hostile);
                    replaced = true;
                  }
                }
              }
            }
          }
          assertTrue(replaced, "__tensor__ argument found in the fixture");
          content = root.toString().getBytes(StandardCharsets.UTF_8);
        }
        o.putNextEntry(new ZipEntry(e.getName()));
        o.write(content);
        o.closeEntry();
      }
    }
  }

  /** A .weights.h5 whose one layer dataset's dataspace declares 2^31 values (the data is never there). */
  private static void hugeDataset(Path file) throws IOException {
    try (WritableHdfFile hdf = HdfFile.write(file)) {
      hdf.putGroup("layers").putGroup("conv2d").putGroup("vars").putDataset("0", new float[4321]);
    }
    byte[] bytes = Files.readAllBytes(file);
    byte[] pattern = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(4321).array();
    int at = indexOf(bytes, pattern);
    assertTrue(at > 0, "dimension found");
    ByteBuffer.wrap(bytes, at, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 31);
    // The object header carries a checksum over its messages: recompute it.
    int header = at;
    while (!(bytes[header] == 'O' && bytes[header + 1] == 'H' && bytes[header + 2] == 'D' && bytes[header + 3] == 'R')) {
      header--;
    }
    int flags = bytes[header + 5] & 0xFF;
    int p = header + 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
    int sizeBytes = 1 << (flags & 3);
    long chunk = 0;
    for (int k = sizeBytes - 1; k >= 0; k--) {
      chunk = chunk << 8 | (bytes[p + k] & 0xFF);
    }
    int end = (int) (p + sizeBytes + chunk);
    int checksum = io.jhdf.checksum.ChecksumUtils.checksum(java.util.Arrays.copyOfRange(bytes, header, end));
    ByteBuffer.wrap(bytes, end, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(checksum);
    Files.write(file, bytes);
  }

  /** The PNG signature and an IHDR chunk of the given size (8-bit gray), nothing else. */
  static byte[] pngHeader(int width, int height) {
    ByteBuffer b = ByteBuffer.allocate(33);
    b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    b.putInt(13).put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(width).putInt(height);
    b.put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(b.array(), 12, 17);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** The first position of {@code pattern} in {@code bytes}, or -1 (also used by ReliabilityCommandsTest). */
  static int indexOf(byte[] bytes, byte[] pattern) {
    outer:
    for (int i = 0; i <= bytes.length - pattern.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (bytes[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

}
