package dev.bss.interop.numpy;

import dev.bss.interop.AtomicFiles;
import dev.bss.interop.SafeZip;
import dev.bss.model.Weight;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes NumPy {@code .npz} archives: a zip of {@code <key>.npy} members, stored or deflated
 * ({@code np.savez} / {@code np.savez_compressed}), e.g. Keras's {@code mnist.npz} cache and our checkpoints.
 *
 * <p>Keys keep the archive's order. Writes use stored (uncompressed) members like {@code np.savez} and are atomic.
 */
public final class Npz {

  private Npz() {}

  /** Reads every member as float32, keyed by member name without {@code .npy}, in archive order. */
  public static Map<String, Weight> readFloats(Path file) {
    Map<String, Weight> weights = new LinkedHashMap<>();
    read(file).forEach((key, array) -> weights.put(key, array.toWeight()));
    return weights;
  }

  /** Reads every member keeping its dtype and raw bytes, keyed by member name without {@code .npy}. */
  public static Map<String, NpyArray> read(Path file) {
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    try (ZipFile zip = open(file)) {
      SafeZip.checkTotal(zip, file.toString(), SafeZip.MAX_MEMBER_BYTES);
      for (ZipEntry entry : Collections.list(zip.entries())) {
        if (entry.isDirectory()) {
          continue;
        }
        arrays.put(keyOf(file, entry), readEntry(file, zip, entry));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }
    return arrays;
  }

  /** Reads one member by key (without {@code .npy}), e.g. {@code x_train} of Keras's {@code mnist.npz}. */
  public static NpyArray read(Path file, String key) {
    try (ZipFile zip = open(file)) {
      ZipEntry entry = zip.getEntry(key + ".npy");
      if (entry == null) {
        entry = zip.getEntry(key);
      }
      if (entry == null) {
        throw new IllegalArgumentException(file + ": no array '" + key + "' (found " + keys(file, zip) + ")");
      }
      return readEntry(file, zip, entry);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** The member keys (without {@code .npy}) in archive order. */
  public static List<String> keys(Path file) {
    try (ZipFile zip = open(file)) {
      return keys(file, zip);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Writes the arrays as float32 {@code <key>.npy} members in map order, atomically. */
  public static void writeFloats(Path file, Map<String, Weight> weights) {
    Map<String, byte[]> members = new LinkedHashMap<>();
    weights.forEach((key, weight) -> members.put(key, Npy.encode(weight)));
    writeMembers(file, members);
  }

  /** Writes the arrays in their own dtypes (e.g. a uint8 {@code mnist.npz}) in map order, atomically. */
  public static void write(Path file, Map<String, NpyArray> arrays) {
    Map<String, byte[]> members = new LinkedHashMap<>();
    arrays.forEach((key, array) -> members.put(key, Npy.encode(array)));
    writeMembers(file, members);
  }

  private static void writeMembers(Path file, Map<String, byte[]> members) {
    AtomicFiles.writeStream(file, out -> {
      ZipOutputStream zip = new ZipOutputStream(out);
      for (Map.Entry<String, byte[]> e : members.entrySet()) {
        byte[] npy = e.getValue();
        ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
        // Stored like np.savez: no compression cost when checkpointing, and members can be read by offset.
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(npy.length);
        entry.setCompressedSize(npy.length);
        CRC32 crc = new CRC32();
        crc.update(npy);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(npy);
        zip.closeEntry();
      }
      zip.finish();
    });
  }

  private static ZipFile open(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(file + ": file not found");
    }
    try {
      return new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new IllegalArgumentException(file + ": not a NumPy .npz (zip) archive: " + e.getMessage());
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": file not found");
    }
  }

  private static NpyArray readEntry(Path file, ZipFile zip, ZipEntry entry) {
    String source = file + "[" + entry.getName() + "]";
    return Npy.parse(source, SafeZip.read(zip, entry, source, SafeZip.MAX_MEMBER_BYTES));
  }

  private static List<String> keys(Path file, ZipFile zip) {
    List<String> keys = new ArrayList<>();
    for (ZipEntry entry : Collections.list(zip.entries())) {
      if (!entry.isDirectory()) {
        keys.add(keyOf(file, entry));
      }
    }
    return keys;
  }

  private static String keyOf(Path file, ZipEntry entry) {
    String name = entry.getName();
    return name.endsWith(".npy") ? name.substring(0, name.length() - 4) : name;
  }
}
