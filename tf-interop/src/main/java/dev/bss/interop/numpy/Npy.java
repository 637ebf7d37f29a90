package dev.bss.interop.numpy;

import dev.bss.interop.AtomicFiles;
import dev.bss.model.Weight;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0), the array files Keras fixtures use.
 *
 * <p>Supported dtypes: {@code <f4}, {@code <f8}, {@code |u1} (also {@code <i4}, {@code <i8} for labels), C order only.
 * Every header is validated before the data is trusted; a bad file gives one {@link IllegalArgumentException} line that
 * names the file, what was expected and what was found. Writes are float32, version 1.0, atomic (temp file + rename).
 */
public final class Npy {

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  // NumPy pads the header so the data starts on a 64-byte boundary; we do the same for mmap-friendly files.
  private static final int ALIGNMENT = 64;

  private Npy() {}

  /** Reads a {@code .npy} file as float32 values with its shape. */
  public static Weight readFloats(Path file) {
    return read(file).toWeight();
  }

  /** Reads a {@code .npy} file keeping its dtype and raw bytes (e.g. uint8 images). */
  public static NpyArray read(Path file) {
    Header header = readHeader(file);
    long bytes = header.size() * header.itemSize();
    if (bytes > Integer.MAX_VALUE - 64 - header.dataOffset()) {
      throw new IllegalArgumentException(file + ": shape " + Arrays.toString(header.shape()) + " holds " + bytes
          + " bytes, too large to load whole (at most 2 GiB)");
    }
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": file not found");
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }
    return parse(file.toString(), content);
  }

  /**
   * Reads {@code count} elements from {@code first} on as float32 (converted as {@link NpyArray#toWeight()} does),
   * for streaming a large file in chunks without loading it whole.
   */
  public static float[] readFloats(Path file, Header header, long first, int count) {
    int item = header.itemSize();
    if (first < 0 || count < 0 || first + count > header.size()) {
      throw new IllegalArgumentException(file + ": elements " + first + ".." + (first + count) + " out of range");
    }
    ByteBuffer buffer = ByteBuffer.allocate(Math.multiplyExact(count, item));
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long position = header.dataOffset() + first * item;
      while (buffer.hasRemaining()) {
        int n = channel.read(buffer, position + buffer.position());
        if (n < 0) {
          throw new IllegalArgumentException(file + ": truncated data (the file shrank while being read)");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }
    return new NpyArray(header.source(), header.dtype(), new long[] {count}, buffer.array()).toWeight().data();
  }

  /** Writes {@code weight} as a float32 C-order {@code .npy} file, atomically. */
  public static void writeFloats(Path file, Weight weight) {
    AtomicFiles.writeStream(file, out -> out.write(encode(weight)));
  }

  /** Writes {@code array} with its own dtype (e.g. uint8 images), atomically. */
  public static void write(Path file, NpyArray array) {
    AtomicFiles.writeStream(file, out -> out.write(encode(array)));
  }

  /** The bytes of a version 1.0 {@code .npy} file holding {@code array} in its dtype. */
  static byte[] encode(NpyArray array) {
    byte[] header = header(array.dtype(), array.shape());
    byte[] data = array.bytes();
    byte[] file = Arrays.copyOf(header, header.length + data.length);
    System.arraycopy(data, 0, file, header.length, data.length);
    return file;
  }

  /** The bytes of a version 1.0 float32 {@code .npy} file holding {@code weight}. */
  static byte[] encode(Weight weight) {
    byte[] header = header("<f4", weight.shape());
    float[] data = weight.data();
    ByteBuffer buffer = ByteBuffer.allocate(header.length + 4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
    buffer.put(header);
    buffer.asFloatBuffer().put(data);
    return buffer.array();
  }

  /** Magic, version 1.0, header length and the padded dict, so that the data starts on a 64-byte boundary. */
  static byte[] header(String dtype, long[] shape) {
    StringBuilder dict = new StringBuilder("{'descr': '").append(dtype).append("', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < shape.length; i++) {
      dict.append(shape[i]).append(shape.length == 1 ? "," : (i + 1 < shape.length ? ", " : ""));
    }
    dict.append("), }");
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    dict.append(" ".repeat((ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT)).append('\n');
    byte[] text = dict.toString().getBytes(StandardCharsets.US_ASCII);
    ByteBuffer buffer = ByteBuffer.allocate(MAGIC.length + 4 + text.length).order(ByteOrder.LITTLE_ENDIAN);
    buffer.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length).put(text);
    return buffer.array();
  }

  /**
   * A validated {@code .npy} header: dtype, shape and where the data starts; the data size matches the file's.
   *
   * @param source the file (and npz member) it came from, used in error messages
   * @param dtype one of {@code <f4 <f8 |u1 <i4 <i8}
   * @param shape dimensions in C order
   * @param dataOffset the byte offset of the first element
   */
  public record Header(String source, String dtype, long[] shape, long dataOffset) {
    /** Number of elements. */
    public long size() {
      return NpyArray.elementCount(shape);
    }

    /** Bytes per element. */
    public int itemSize() {
      return NpyArray.itemSize(dtype);
    }
  }

  /** Longest header accepted (NumPy itself refuses headers over 10,000 bytes by default). */
  private static final int MAX_HEADER_BYTES = 1 << 16;

  /**
   * Reads and validates only the header of a {@code .npy} file (the data is not read): the declared size is checked
   * against the file's before anything is allocated.
   */
  public static Header readHeader(Path file) {
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(file + ": is a directory, expected a .npy file");
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long length = channel.size();
      ByteBuffer prefix = ByteBuffer.allocate((int) Math.min(length, 12 + MAX_HEADER_BYTES));
      while (prefix.hasRemaining() && channel.read(prefix) >= 0) {
        // read the whole prefix
      }
      return parseHeader(file.toString(), Arrays.copyOf(prefix.array(), prefix.position()), length);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": file not found");
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Parses a whole {@code .npy} file already in memory; {@code source} names it in error messages. */
  static NpyArray parse(String source, byte[] content) {
    Header h = parseHeader(source, content, content.length);
    byte[] data = Arrays.copyOfRange(content, (int) h.dataOffset(), content.length);
    return new NpyArray(source, h.dtype(), h.shape(), data);
  }

  /** Validates the header at the start of {@code prefix}, for a file of {@code fileLength} bytes. */
  static Header parseHeader(String source, byte[] content, long fileLength) {
    if (!Arrays.equals(content, 0, Math.min(MAGIC.length, content.length), MAGIC, 0,
        Math.min(MAGIC.length, content.length)) || content.length == 0) {
      throw new IllegalArgumentException(source + ": not a NumPy .npy file (expected magic \\x93NUMPY, found "
          + describeStart(content) + ")");
    }
    if (content.length < MAGIC.length + 2) {
      throw new IllegalArgumentException(source + ": truncated .npy file (" + fileLength + " bytes, a header needs "
          + "at least 10)");
    }
    int major = content[6] & 0xFF;
    int minor = content[7] & 0xFF;
    if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
      throw new IllegalArgumentException(source + ": unsupported .npy format version " + major + "." + minor
          + " (expected 1.0, 2.0 or 3.0)");
    }
    int lengthBytes = major == 1 ? 2 : 4;
    int headerStart = 8 + lengthBytes;
    if (content.length < headerStart) {
      throw new IllegalArgumentException(source + ": truncated .npy header (file has " + fileLength + " bytes)");
    }
    ByteBuffer le = ByteBuffer.wrap(content).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = major == 1 ? (le.getShort(8) & 0xFFFF) : (le.getInt(8) & 0xFFFFFFFFL);
    if (headerLength > MAX_HEADER_BYTES) {
      throw new IllegalArgumentException(source + ": .npy header of " + headerLength + " bytes, more than the "
          + MAX_HEADER_BYTES + " accepted");
    }
    if (headerStart + headerLength > content.length) {
      throw new IllegalArgumentException(source + ": truncated .npy header (header says " + headerLength
          + " bytes, file has " + (fileLength - headerStart) + " after the length field)");
    }
    String text = new String(content, headerStart, (int) headerLength,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Map<String, Object> dict;
    try {
      dict = new HeaderParser(text).parseDict();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": malformed .npy header: " + e.getMessage() + " in "
          + text.strip());
    }
    if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
      throw new IllegalArgumentException(source + ": .npy header keys must be descr, fortran_order, shape; found "
          + dict.keySet());
    }
    if (!(dict.get("descr") instanceof String descr)) {
      throw new IllegalArgumentException(source + ": unsupported dtype " + dict.get("descr")
          + " (expected one of <f4, <f8, |u1, <i4, <i8)");
    }
    String dtype = normaliseDtype(source, descr);
    if (!Boolean.FALSE.equals(dict.get("fortran_order"))) {
      throw new IllegalArgumentException(source + ": expected fortran_order False (C order), found "
          + dict.get("fortran_order"));
    }
    if (!(dict.get("shape") instanceof long[] shape)) {
      throw new IllegalArgumentException(source + ": expected shape to be a tuple of integers, found "
          + dict.get("shape"));
    }
    long expected;
    try {
      expected = Math.multiplyExact(NpyArray.elementCount(shape), NpyArray.itemSize(dtype));
    } catch (ArithmeticException | IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": invalid shape " + Arrays.toString(shape) + " (too many elements)");
    }
    long dataStart = headerStart + headerLength;
    long found = fileLength - dataStart;
    if (found != expected) {
      throw new IllegalArgumentException(source + ": " + (found < expected ? "truncated data" : "trailing data")
          + ": shape " + Arrays.toString(shape) + " " + dtype + " needs " + expected + " bytes, found " + found);
    }
    return new Header(source, dtype, shape, dataStart);
  }

  private static String normaliseDtype(String source, String descr) {
    return switch (descr) {
      case "<f4", "<f8", "<i4", "<i8", "|u1" -> descr;
      case "<u1", "u1", "B" -> "|u1";
      default -> throw new IllegalArgumentException(source + ": unsupported dtype '" + descr
          + "' (expected one of <f4, <f8, |u1, <i4, <i8; little-endian)");
    };
  }

  private static String describeStart(byte[] content) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(6, content.length); i++) {
      int b = content[i] & 0xFF;
      s.append(b >= 0x20 && b < 0x7F ? String.valueOf((char) b) : String.format("\\x%02x", b));
    }
    return content.length == 0 ? "an empty file" : s.toString();
  }

  /** A header value this reader does not support (a structured dtype, a number, None), kept for the message. */
  private record Unsupported(String text) {
    @Override
    public String toString() {
      return text;
    }
  }

  /** A parser for the Python literal dict of a .npy header: strings, True/False and tuples of integers. */
  private static final class HeaderParser {
    private final String text;
    private int pos;

    HeaderParser(String text) {
      this.text = text;
    }

    Map<String, Object> parseDict() {
      Map<String, Object> dict = new LinkedHashMap<>();
      expect('{');
      while (true) {
        skipSpace();
        if (peek() == '}') {
          pos++;
          break;
        }
        String key = parseString();
        expect(':');
        if (dict.put(key, parseValue()) != null) {
          throw new IllegalArgumentException("duplicate key '" + key + "'");
        }
        skipSpace();
        if (peek() == ',') {
          pos++;
        } else if (peek() != '}') {
          throw new IllegalArgumentException("expected ',' or '}' at position " + pos);
        }
      }
      skipSpace();
      if (pos != text.length()) {
        throw new IllegalArgumentException("unexpected text after the dict at position " + pos);
      }
      return dict;
    }

    private Object parseValue() {
      skipSpace();
      char c = peek();
      if (c == '\'' || c == '"') {
        return parseString();
      }
      if (c == '(') {
        return parseTuple();
      }
      if (text.startsWith("True", pos)) {
        pos += 4;
        return Boolean.TRUE;
      }
      if (text.startsWith("False", pos)) {
        pos += 5;
        return Boolean.FALSE;
      }
      // Anything else (a structured dtype list, a number, None) is reported by the caller as unsupported.
      int start = pos;
      int depth = 0;
      while (pos < text.length()) {
        char d = text.charAt(pos);
        if (d == '[' || d == '(' || d == '{') {
          depth++;
        } else if (d == ']' || d == ')' || d == '}') {
          if (depth == 0) {
            break;
          }
          depth--;
        } else if (d == ',' && depth == 0) {
          break;
        }
        pos++;
      }
      return new Unsupported(text.substring(start, pos).strip());
    }

    private long[] parseTuple() {
      expect('(');
      List<Long> values = new ArrayList<>();
      while (true) {
        skipSpace();
        if (peek() == ')') {
          pos++;
          break;
        }
        int start = pos;
        while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
          pos++;
        }
        // Python 2 era files may write dimensions as 3L.
        String digits = text.substring(start, pos);
        if (pos < text.length() && text.charAt(pos) == 'L') {
          pos++;
        }
        if (digits.isEmpty()) {
          throw new IllegalArgumentException("expected a non-negative integer in the shape at position " + start);
        }
        try {
          values.add(Long.parseLong(digits));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("shape dimension " + digits + " is too large");
        }
        skipSpace();
        if (peek() == ',') {
          pos++;
        } else if (peek() != ')') {
          throw new IllegalArgumentException("expected ',' or ')' in the shape at position " + pos);
        }
      }
      return values.stream().mapToLong(Long::longValue).toArray();
    }

    private String parseString() {
      skipSpace();
      char quote = peek();
      if (quote != '\'' && quote != '"') {
        throw new IllegalArgumentException("expected a quoted string at position " + pos);
      }
      int end = text.indexOf(quote, pos + 1);
      if (end < 0) {
        throw new IllegalArgumentException("unterminated string at position " + pos);
      }
      String s = text.substring(pos + 1, end);
      pos = end + 1;
      return s;
    }

    private void expect(char c) {
      skipSpace();
      if (peek() != c) {
        throw new IllegalArgumentException("expected '" + c + "' at position " + pos);
      }
      pos++;
    }

    private char peek() {
      if (pos >= text.length()) {
        throw new IllegalArgumentException("header ends early");
      }
      return text.charAt(pos);
    }

    private void skipSpace() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }
  }

  /**
   * Writes a float32 {@code .npy} of a known shape chunk by chunk, so that a large output never sits whole in memory.
   * Closing it checks that exactly the shape's values were written.
   */
  public static final class FloatWriter implements java.io.Closeable {
    private final Path file;
    private final FileChannel channel;
    private final long expected;
    private long written;

    /** Creates {@code file} (it must not exist) and writes the header for {@code shape}. */
    public FloatWriter(Path file, long[] shape) throws IOException {
      this.file = file;
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      this.expected = n;
      this.channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      channel.write(ByteBuffer.wrap(header("<f4", shape)));
    }

    /** Appends {@code count} values of {@code values} from {@code offset}. */
    public void write(float[] values, int offset, int count) throws IOException {
      if (written + count > expected) {
        throw new IllegalStateException(file + ": more than the " + expected + " values of its shape");
      }
      ByteBuffer buffer = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
      buffer.asFloatBuffer().put(values, offset, count);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      written += count;
    }

    @Override
    public void close() throws IOException {
      channel.close();
      if (written != expected) {
        throw new IllegalStateException(file + ": " + written + " values written, its shape holds " + expected);
      }
    }
  }
}
