package dev.bss.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Downloads one file over HTTP(S) into a cache, verifying its SHA-256 before it becomes visible (temp file + rename).
 *
 * <p>Progress goes to the given stream as one line per 10%. On any failure nothing is left at the target path.
 */
final class Downloader {

  private final HttpClient client;
  private final PrintStream progress;

  Downloader(PrintStream progress, Duration connectTimeout) {
    this.client = HttpClient.newBuilder().connectTimeout(connectTimeout)
        .followRedirects(HttpClient.Redirect.NORMAL).build();
    this.progress = progress;
  }

  /**
   * Fetches {@code url} to {@code target}, checking its SHA-256 against {@code expectedSha256}.
   *
   * @throws DataException with one line naming the URL when the download fails or the checksum does not match
   */
  void download(URI url, Path target, String expectedSha256) {
    Path temp = null;
    try {
      Files.createDirectories(target.toAbsolutePath().getParent());
      HttpRequest request = HttpRequest.newBuilder(url).GET().timeout(Duration.ofMinutes(2)).build();
      HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream body = response.body()) {
        if (response.statusCode() != 200) {
          throw new DataException("download of " + url + " failed: HTTP " + response.statusCode());
        }
        long total = response.headers().firstValueAsLong("Content-Length").orElse(-1);
        // createFile (not createTempFile, which makes 0600 files): the cached file gets the umask's permissions.
        temp = Files.createFile(target.toAbsolutePath().getParent().resolve("." + target.getFileName() + "."
            + ProcessHandle.current().pid() + "-" + Long.toUnsignedString(System.nanoTime(), 36) + ".part"));
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        long copied = 0;
        int reportedTenth = 0;
        progress.println("downloading " + url + (total > 0 ? String.format(" (%.1f MB)", total / 1e6) : ""));
        try (OutputStream out = Files.newOutputStream(temp)) {
          byte[] buffer = new byte[1 << 16];
          for (int n; (n = body.read(buffer)) > 0; ) {
            out.write(buffer, 0, n);
            sha.update(buffer, 0, n);
            copied += n;
            if (total > 0 && copied * 10 / total > reportedTenth) {
              reportedTenth = (int) (copied * 10 / total);
              progress.printf("  %s: %d%% (%.1f of %.1f MB)%n", target.getFileName(), reportedTenth * 10,
                  copied / 1e6, total / 1e6);
            }
          }
        }
        if (total > 0 && copied != total) {
          throw new DataException("download of " + url + " failed: received " + copied + " of " + total + " bytes");
        }
        String found = HexFormat.of().formatHex(sha.digest());
        if (!found.equalsIgnoreCase(expectedSha256)) {
          throw new DataException("download of " + url + " for " + target.getFileName() + ": sha256 " + found
              + ", expected " + expectedSha256 + " (file discarded)");
        }
      }
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      temp = null;
    } catch (IOException e) {
      throw new DataException("download of " + url + " failed (" + describe(e, url) + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataException("download of " + url + " interrupted", e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException ignored) {
          // The download error is the one to report.
        }
      }
    }
  }

  /** The most telling part of a network failure, e.g. "host example.org not found (no network?)". */
  static String describe(IOException e, URI url) {
    String detail = null;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.UnknownHostException
          || t instanceof java.nio.channels.UnresolvedAddressException) {
        return "host " + url.getHost() + " not found: no network?";
      }
      if (t instanceof java.net.ConnectException && (t.getMessage() == null || t.getMessage().isBlank())) {
        return "cannot connect to " + url.getHost() + (url.getPort() > 0 ? ":" + url.getPort() : "")
            + ": connection refused or no network";
      }
      if (detail == null && t.getMessage() != null && !t.getMessage().isBlank()) {
        detail = t.getMessage().lines().findFirst().orElse("");
      }
    }
    String name = e.getClass().getSimpleName();
    return detail == null ? name : name + ": " + detail;
  }
}
