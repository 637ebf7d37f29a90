package dev.bss.interop.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.bss.interop.AtomicFiles;
import dev.bss.interop.Fixtures;
import dev.bss.interop.JsonLimits;
import dev.bss.interop.SafeZip;
import dev.bss.interop.numpy.Npy;
import dev.bss.interop.numpy.Npz;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged and hostile files, generated here: every one is refused with one message naming the file, before any
 * large allocation (declared sizes are checked first), and zip members are CRC-checked.
 */
class HostileFilesTest {

  @TempDir Path tmp;

  private static void assertRefused(Runnable read, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, read::run);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
    }
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
  }

  @Test
  void oneChangedByteInAnNpzMemberFailsItsCrc() throws IOException {
    Path npz = tmp.resolve("weights.npz");
    Map<String, Weight> weights = new LinkedHashMap<>();
    weights.put("dense/kernel", new Weight(new long[] {4, 8}, new float[32]));
    Npz.writeFloats(npz, weights);
    byte[] bytes = Files.readAllBytes(npz);
    int data = indexOf(bytes, "\n".getBytes(StandardCharsets.US_ASCII), indexOf(bytes, "NUMPY".getBytes(
        StandardCharsets.US_ASCII), 0)) + 5; // inside the float data, after the .npy header
    bytes[data] ^= 0x40;
    Files.write(npz, bytes);
    assertRefused(() -> Npz.readFloats(npz), npz.toString(), "dense/kernel.npy", "CRC-32 mismatch");
  }

  @Test
  void oneChangedByteInAKerasWeightsMemberFailsItsCrc() throws IOException {
    Path source = Fixtures.kerasReference("tiny").resolve("reference.keras");
    Path stored = tmp.resolve("stored.keras");
    // Re-pack with stored members so that the changed byte lands in float data, which HDF5 itself cannot notice.
    try (ZipFile zip = new ZipFile(source.toFile());
        ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(stored))) {
      for (ZipEntry e : Collections.list(zip.entries())) {
        byte[] content = zip.getInputStream(e).readAllBytes();
        putStored(out, e.getName(), content);
      }
    }
    assertEquals(ModelConfig.tiny().embedDim(), KerasArchive.read(stored, null).config().embedDim());
    byte[] bytes = Files.readAllBytes(stored);
    int h5 = indexOf(bytes, new byte[] {(byte) 0x89, 'H', 'D', 'F'}, 0);
    bytes[h5 + 300_000] ^= 0x01;
    Files.write(stored, bytes);
    assertRefused(() -> KerasArchive.read(stored, null), stored.toString(), "model.weights.h5", "CRC-32 mismatch");
  }

  @Test
  void zipBombAndOversizedMembersAreRefusedBeforeAllocation() throws IOException {
    // A deflated member of 300 MB of zeros: ~300 KB on disk, declared over the 256 MiB cap.
    Path bomb = tmp.resolve("bomb.npz");
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(bomb))) {
      out.putNextEntry(new ZipEntry("x.npy"));
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 300; i++) {
        out.write(zeros);
      }
      out.closeEntry();
    }
    assertTrue(Files.size(bomb) < 2_000_000, "bomb is small on disk: " + Files.size(bomb));
    long before = usedHeap();
    assertRefused(() -> Npz.readFloats(bomb), bomb.toString(), "declares 314572800 bytes", "zip bomb");
    assertTrue(usedHeap() - before < 64L << 20, "nothing large was allocated");
    // Three members of 100 MB each, every one under the member cap: refused for their total.
    Path many = tmp.resolve("many.npz");
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(many))) {
      out.setLevel(java.util.zip.Deflater.BEST_SPEED);
      byte[] zeros = new byte[1 << 20];
      for (String name : new String[] {"a.npy", "b.npy", "c.npy"}) {
        out.putNextEntry(new ZipEntry(name));
        for (int i = 0; i < 100; i++) {
          out.write(zeros);
        }
        out.closeEntry();
      }
    }
    assertRefused(() -> Npz.readFloats(many), many.toString(), "bytes in all");
    // config.json of 20 MB (whitespace) inside a .keras: refused by the config cap, before it is parsed.
    Path keras = tmp.resolve("config-bomb.keras");
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(keras))) {
      out.putNextEntry(new ZipEntry("config.json"));
      byte[] spaces = new byte[1 << 20];
      java.util.Arrays.fill(spaces, (byte) ' ');
      for (int i = 0; i < 20; i++) {
        out.write(spaces);
      }
      out.closeEntry();
    }
    assertRefused(() -> KerasArchive.read(keras, null), keras.toString(), "config.json", "declares 20971520 bytes");
    assertTrue(SafeZip.MAX_MEMBER_BYTES >= 64L << 20, "the cap leaves room for real files");
  }

  @Test
  void deeplyNestedOrOversizedJsonIsRefused() throws IOException {
    String deep = "{\"a\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    assertRefused(() -> JsonLimits.parseObject(deep, "config x.json"), "config x.json", "not valid JSON", "esting");
    Path big = tmp.resolve("big.json");
    try (OutputStream out = Files.newOutputStream(big)) {
      out.write('{');
      out.write(new byte[(int) JsonLimits.MAX_CONFIG_BYTES]);
      out.write('}');
    }
    assertRefused(() -> JsonLimits.readObject(big, "model config " + big), big.toString(), "more than the");
  }

  @Test
  void positionEmbeddingShapeIsCheckedBeforeItIsFilled() {
    // Shape is taken from the first element of each level: [1000, 1000, 2000] declared by a few KB of JSON would
    // cost 8 GB if allocated.
    StringBuilder json = new StringBuilder("[[[");
    json.append("0,".repeat(1999)).append("0]").append(",[]".repeat(999)).append("]").append(",[]".repeat(999))
        .append("]");
    long before = usedHeap();
    assertRefused(() -> KerasArchive.fromNested(JsonParser.parseString(json.toString()), "x.keras (add node)"),
        "x.keras (add node)", "expected shape [1, 16, embed_dim]", "[1000, 1000, 2000]");
    assertTrue(usedHeap() - before < 256L << 20, "the declared tensor was not allocated");
    Weight ok = KerasArchive.fromNested(JsonParser.parseString("[[" + "[0.5, 1.5],".repeat(15) + "[0.5, 1.5]]]"),
        "ok");
    assertEquals(32, ok.size());
  }

  @Test
  void hdf5DatasetSizesAreCheckedBeforeReadingAndUnexpectedOnesAreNeverRead() throws IOException {
    Path file = tmp.resolve("hostile.weights.h5");
    try (WritableHdfFile hdf = HdfFile.write(file)) {
      hdf.putGroup("layers").putGroup("dense").putGroup("vars").putDataset("0", new float[4321]);
      hdf.putGroup("junk").putDataset("blob", new float[4322]);
    }
    byte[] bytes = Files.readAllBytes(file);
    // Declare 10^9 values for both datasets (their dataspace dimension fields), without adding any data.
    patchLong(bytes, 4321, 1_000_000_000L);
    Files.write(file, bytes);
    long before = usedHeap();
    assertRefused(() -> KerasWeightsH5.readDatasets(file), "layers/dense/vars/0", "declares shape [1000000000]",
        "more than the");
    assertTrue(usedHeap() - before < 256L << 20, "the declared dataset was not allocated");
    // A huge dataset outside layers/ is named but never read.
    Path junk = tmp.resolve("junk.weights.h5");
    try (WritableHdfFile hdf = HdfFile.write(junk)) {
      hdf.putGroup("layers").putGroup("dense").putGroup("vars").putDataset("0", new float[8]);
      hdf.putGroup("junk").putDataset("blob", new float[4322]);
    }
    bytes = Files.readAllBytes(junk);
    patchLong(bytes, 4322, 1_000_000_000L);
    Files.write(junk, bytes);
    Map<String, Weight> datasets = KerasWeightsH5.readDatasets(junk);
    assertTrue(datasets.containsKey("junk/blob"));
    assertNull(datasets.get("junk/blob"));
  }

  @Test
  void overflowingConfigValuesAreRefusedNamingTheKey() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("filters", java.util.List.of(1e20, 16.0, 32.0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(map));
    assertTrue(e.getMessage().contains("'filters[0]'"), e.getMessage());
    map.put("filters", java.util.List.of(8, 16, 32));
    map.put("cbam_ratio", 4);
    map.put("embed_dim", 16000);
    map.put("num_heads", 200);
    e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(map));
    assertTrue(e.getMessage().contains("parameters, more than the"), e.getMessage());
    map.put("embed_dim", 100000);
    e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(map));
    assertTrue(e.getMessage().contains("'embed_dim' must be <= 16384"), e.getMessage());
  }

  @Test
  void shortNpyIsCalledTruncated() throws IOException {
    Path seven = tmp.resolve("seven.npy");
    Files.write(seven, new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1});
    assertRefused(() -> Npy.read(seven), seven.toString(), "truncated .npy file (7 bytes");
    Path huge = tmp.resolve("huge.npy");
    Files.write(huge, npyHeader("(100000000, 32, 32, 1)"));
    assertRefused(() -> Npy.read(huge), "truncated data", "needs 409600000000 bytes, found 0");
  }

  @Test
  void atomicWritesFollowTheUmaskAndRemoveOrphansOfDeadWriters() throws IOException {
    Path target = tmp.resolve("out.json");
    Path deadFile = tmp.resolve(".out.json.2147483646-dead.tmp");
    Path deadDir = tmp.resolve(".out.json.2147483646-dead2.old");
    Path live = tmp.resolve(".out.json." + ProcessHandle.current().pid() + "-live.tmp");
    Files.writeString(deadFile, "half");
    Files.createDirectories(deadDir.resolve("sub"));
    Files.writeString(live, "being written by this process");
    AtomicFiles.writeString(target, "{}");
    assertEquals("{}", Files.readString(target));
    assertFalse(Files.exists(deadFile), "orphan file removed");
    assertFalse(Files.exists(deadDir), "orphan folder removed");
    assertTrue(Files.exists(live), "a live writer's temporary file is kept");
    Path dir = tmp.resolve("outdir");
    AtomicFiles.writeDirectory(dir, t -> Files.writeString(t.resolve("a"), "a"));
    if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Path reference = Files.createFile(tmp.resolve("reference"));
      Path referenceDir = Files.createDirectory(tmp.resolve("referenceDir"));
      assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(reference)),
          PosixFilePermissions.toString(Files.getPosixFilePermissions(target)), "file permissions follow the umask");
      assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(referenceDir)),
          PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)), "folder permissions follow the umask");
    }
  }

  private static long usedHeap() {
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  static byte[] npyHeader(String shape) {
    String header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    int pad = (64 - (10 + header.length() + 1) % 64) % 64;
    header = header + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
    return b.array();
  }

  private static void putStored(ZipOutputStream out, String name, byte[] content) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(content.length);
    e.setCompressedSize(content.length);
    CRC32 crc = new CRC32();
    crc.update(content);
    e.setCrc(crc.getValue());
    out.putNextEntry(e);
    out.write(content);
    out.closeEntry();
  }

  /** Replaces every 8-byte little-endian occurrence of {@code from} (a dataspace dimension) with {@code to}. */
  private static void patchLong(byte[] bytes, long from, long to) {
    byte[] pattern = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(from).array();
    byte[] replacement = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(to).array();
    int found = 0;
    for (int i = indexOf(bytes, pattern, 0); i >= 0; i = indexOf(bytes, pattern, i + 8)) {
      System.arraycopy(replacement, 0, bytes, i, 8);
      fixObjectHeaderChecksum(bytes, i);
      found++;
    }
    assertTrue(found > 0, "dimension " + from + " found in the HDF5 file");
  }

  /** Recomputes the Jenkins checksum of the version 2 object header ("OHDR") that holds {@code position}. */
  private static void fixObjectHeaderChecksum(byte[] bytes, int position) {
    int header = -1;
    for (int i = position; i >= 0; i--) {
      if (bytes[i] == 'O' && bytes[i + 1] == 'H' && bytes[i + 2] == 'D' && bytes[i + 3] == 'R') {
        header = i;
        break;
      }
    }
    assertTrue(header >= 0, "object header found");
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
  }

  private static int indexOf(byte[] bytes, byte[] pattern, int from) {
    outer:
    for (int i = Math.max(0, from); i <= bytes.length - pattern.length; i++) {
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
