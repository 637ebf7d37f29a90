package dev.bss.interop;

import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads zip members ({@code .npz}, {@code .keras}) without trusting them: the declared size is checked against a cap
 * before anything is allocated, the member is read in a streaming way that stops at the declared size (a deflate
 * bomb that inflates past it is refused, not buffered), and its CRC-32 is verified like Python's {@code zipfile}
 * does ({@link ZipFile} checks neither).
 */
public final class SafeZip {

  /** Largest member read whole: 256 MiB (the seed network's weights are 18 MB, Keras's mnist.npz x_train 47 MB). */
  public static final long MAX_MEMBER_BYTES = 256L << 20;

  private SafeZip() {}

  /**
   * Checks that the members of an archive read whole declare at most {@code maxBytes} in all (many members each
   * under the per-member cap must not add up to gigabytes).
   */
  public static void checkTotal(ZipFile zip, String where, long maxBytes) {
    long total = 0;
    for (ZipEntry e : java.util.Collections.list(zip.entries())) {
      if (e.getSize() > maxBytes) {
        return; // one member over the cap: read() names it
      }
      if (e.getSize() > 0) {
        total += e.getSize();
      }
      if (total > maxBytes) {
        throw new IllegalArgumentException(where + ": zip members declare more than " + maxBytes + " bytes in all "
            + "(not a model file of this network, or a zip bomb)");
      }
    }
  }

  /**
   * The bytes of one member, CRC-checked.
   *
   * @param where names the archive and member in messages, e.g. {@code "model.npz[conv2d/kernel.npy]"}
   * @param maxBytes the largest size accepted for this member
   * @throws IllegalArgumentException naming {@code where}: declared size over the cap or unknown, a member that
   *     inflates past its declared size, a CRC mismatch, or a damaged member
   */
  public static byte[] read(ZipFile zip, ZipEntry entry, String where, long maxBytes) {
    long declared = entry.getSize();
    if (declared < 0) {
      throw new IllegalArgumentException(where + ": zip member without a declared size");
    }
    if (declared > maxBytes) {
      throw new IllegalArgumentException(where + ": zip member declares " + declared + " bytes, more than the "
          + maxBytes + " accepted (not a model file of this network, or a zip bomb)");
    }
    byte[] content = new byte[(int) declared];
    CRC32 crc = new CRC32();
    try (InputStream in = zip.getInputStream(entry)) {
      int n = in.readNBytes(content, 0, content.length);
      if (n < content.length) {
        throw new IllegalArgumentException(where + ": truncated zip member (declares " + declared + " bytes, holds "
            + n + ")");
      }
      if (in.read() >= 0) {
        throw new IllegalArgumentException(where + ": zip member holds more than its declared " + declared
            + " bytes (damaged, or a zip bomb)");
      }
    } catch (ZipException | java.io.EOFException e) {
      throw new IllegalArgumentException(where + ": corrupt zip member (" + e.getMessage() + ")");
    } catch (IOException e) {
      throw new IllegalArgumentException(where + ": cannot read zip member (" + e.getMessage() + ")");
    }
    crc.update(content);
    if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
      throw new IllegalArgumentException(where + ": CRC-32 mismatch (zip says " + String.format("%08x", entry.getCrc())
          + ", the data has " + String.format("%08x", crc.getValue()) + "): the file is damaged");
    }
    return content;
  }
}
