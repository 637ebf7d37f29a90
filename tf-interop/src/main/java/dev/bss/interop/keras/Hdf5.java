package dev.bss.interop.keras;

import dev.bss.model.Weight;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** HDF5 helpers over jHDF: checked opening, float datasets as {@link Weight}, weights as nested Java arrays. */
final class Hdf5 {

  /** The 8-byte HDF5 signature. */
  private static final byte[] SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

  private Hdf5() {}

  /**
   * Opens an HDF5 file after checking that it is one.
   *
   * @throws IllegalArgumentException naming the file when it is missing, not HDF5 or unreadable (e.g. truncated)
   */
  static HdfFile open(Path file, String what) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(what + " " + file + ": no such file");
    }
    byte[] head = new byte[8];
    try (InputStream in = Files.newInputStream(file)) {
      int n = in.readNBytes(head, 0, 8);
      if (n < 8 || !java.util.Arrays.equals(head, SIGNATURE)) {
        throw new IllegalArgumentException(what + " " + file + ": not an HDF5 file (expected the HDF5 signature "
            + "\\x89HDF\\r\\n\\x1a\\n at offset 0, found " + describe(head, n) + ")");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(what + " " + file + ": cannot read (" + e.getMessage() + ")", e);
    }
    try {
      HdfFile hdf = new HdfFile(file);
      hdf.getChildren(); // forces the root group to be parsed, so a truncated file fails here
      return hdf;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(what + " " + file + ": unreadable HDF5 (truncated or damaged?): "
          + e.getMessage(), e);
    }
  }

  /** Opens HDF5 bytes (e.g. {@code model.weights.h5} inside a zip). */
  static HdfFile open(byte[] bytes, String what) {
    if (bytes.length < 8 || !java.util.Arrays.equals(java.util.Arrays.copyOf(bytes, 8), SIGNATURE)) {
      throw new IllegalArgumentException(what + ": not an HDF5 file (no HDF5 signature at offset 0)");
    }
    try {
      HdfFile hdf = HdfFile.fromBytes(bytes);
      hdf.getChildren();
      return hdf;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(what + ": unreadable HDF5 (truncated or damaged?): " + e.getMessage(), e);
    }
  }

  private static String describe(byte[] head, int n) {
    if (n <= 0) {
      return "an empty file";
    }
    StringBuilder sb = new StringBuilder("bytes");
    for (int i = 0; i < n; i++) {
      sb.append(String.format(" %02x", head[i] & 0xff));
    }
    return sb.toString();
  }

  /** Every dataset under {@code group} (recursively), by path relative to the file root without a leading slash. */
  static Map<String, Dataset> datasets(Group group, String where) {
    Map<String, Dataset> out = new LinkedHashMap<>();
    try {
      collect(group, out);
    } catch (io.jhdf.exceptions.HdfException e) {
      // jHDF parses groups lazily, so a truncated file often fails only here.
      throw new IllegalArgumentException(where + ": unreadable HDF5 (truncated or damaged?): " + e.getMessage(), e);
    }
    return out;
  }

  private static void collect(Group group, Map<String, Dataset> out) {
    for (Node child : group.getChildren().values()) {
      if (child instanceof Dataset d) {
        out.put(strip(d.getPath()), d);
      } else if (child instanceof Group g) {
        collect(g, out);
      }
    }
  }

  private static String strip(String path) {
    return path.startsWith("/") ? path.substring(1) : path;
  }

  /**
   * A float dataset as a Weight (float32; float64 converted).
   *
   * @throws IllegalArgumentException naming the file and dataset when it is not a float array or cannot be read
   */
  static Weight weight(Dataset d, String where) {
    checkDeclaredSizes(List.of(d), where);
    Object flat;
    try {
      flat = d.getDataFlat();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(where + ": dataset " + strip(d.getPath()) + " unreadable ("
          + e.getMessage() + ")", e);
    }
    long[] shape = d.getDimensionsAsLong();
    float[] data;
    if (flat instanceof float[] f) {
      data = f;
    } else if (flat instanceof double[] dd) {
      data = new float[dd.length];
      for (int i = 0; i < dd.length; i++) {
        data[i] = (float) dd[i];
      }
    } else if (d.isScalar() && flat instanceof Float f) {
      data = new float[] {f};
    } else {
      throw new IllegalArgumentException(where + ": dataset " + strip(d.getPath()) + " holds "
          + (flat == null ? "no data" : (d.getDataType().getSize() * 8) + "-bit " + d.getDataType().getClass()
              .getSimpleName() + " values read as " + flat.getClass().getSimpleName())
          + ", expected 32- or 64-bit floating point values");
    }
    return new Weight(shape, data);
  }

  /** Largest dataset read (2^25 values, 128 MiB of float32; the seed's largest weight has 147,456). */
  static final long MAX_DATASET_VALUES = 1L << 25;

  /** Largest total of the datasets read from one file (2^26 values; the seed has 4,491,402 in all). */
  static final long MAX_TOTAL_VALUES = 1L << 26;

  /**
   * Checks the sizes the datasets declare in their headers before any is read, so that a small file with a huge
   * (compressed) dataset is refused without allocating it.
   */
  static void checkDeclaredSizes(java.util.Collection<Dataset> datasets, String where) {
    long total = 0;
    for (Dataset d : datasets) {
      long n;
      try {
        n = 1;
        for (long dim : d.getDimensionsAsLong()) {
          n = Math.multiplyExact(n, Math.max(dim, 0));
        }
      } catch (ArithmeticException e) {
        n = Long.MAX_VALUE;
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(where + ": dataset " + strip(d.getPath()) + " unreadable ("
            + e.getMessage() + ")", e);
      }
      if (n > MAX_DATASET_VALUES) {
        throw new IllegalArgumentException(where + ": dataset " + strip(d.getPath()) + " declares shape "
            + java.util.Arrays.toString(d.getDimensionsAsLong()) + " (" + n + " values), more than the "
            + MAX_DATASET_VALUES + " accepted for one weight of this network");
      }
      total += n;
      if (total > MAX_TOTAL_VALUES) {
        throw new IllegalArgumentException(where + ": datasets declare more than " + MAX_TOTAL_VALUES
            + " values in all, more than any model of this network holds");
      }
    }
  }

  /** A string attribute (fixed or variable length), or null when absent. */
  static String stringAttribute(Node node, String name) {
    Attribute a = node.getAttribute(name);
    if (a == null) {
      return null;
    }
    Object v = a.getData();
    return v instanceof String s ? s : String.valueOf(v);
  }

  /** A string-array attribute such as {@code layer_names}, or an empty list when absent. */
  static List<String> stringListAttribute(Node node, String name) {
    Attribute a = node.getAttribute(name);
    List<String> out = new ArrayList<>();
    if (a == null) {
      return out;
    }
    Object v = a.getData();
    if (v instanceof String s) {
      out.add(s);
    } else if (v != null && v.getClass().isArray()) {
      for (int i = 0; i < Array.getLength(v); i++) {
        out.add(String.valueOf(Array.get(v, i)));
      }
    }
    return out;
  }

  /** The weight as a nested Java array of its shape ({@code float[][][][]} for a conv kernel), for jHDF to write. */
  static Object nested(Weight w) {
    long[] shape = w.shape();
    if (shape.length == 0) {
      return w.data().clone();
    }
    int[] dims = new int[shape.length];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = Math.toIntExact(shape[i]);
    }
    Object array = Array.newInstance(float.class, dims);
    fill(array, w.data(), dims, 0, 0);
    return array;
  }

  private static int fill(Object array, float[] data, int[] dims, int axis, int offset) {
    if (axis == dims.length - 1) {
      float[] row = (float[]) array;
      System.arraycopy(data, offset, row, 0, row.length);
      return offset + row.length;
    }
    for (int i = 0; i < dims[axis]; i++) {
      offset = fill(Array.get(array, i), data, dims, axis + 1, offset);
    }
    return offset;
  }

  /** Creates (or returns) the group at a slash path below {@code root}. */
  static WritableGroup group(WritableGroup root, Map<String, WritableGroup> made, String path) {
    WritableGroup existing = made.get(path);
    if (existing != null) {
      return existing;
    }
    int slash = path.lastIndexOf('/');
    WritableGroup parent = slash < 0 ? root : group(root, made, path.substring(0, slash));
    WritableGroup g = parent.putGroup(path.substring(slash + 1));
    made.put(path, g);
    return g;
  }
}
