package dev.bss.train.cli;

import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bss serve as a process: the start line, graceful shutdown on SIGTERM, bad options and untrusted models. */
class ServeCommandTest {

  @TempDir Path tmp;

  private static Path tinyKeras() {
    return InteropCommandsTest.fixture("tiny").resolve("reference.keras");
  }

  @Test
  void badOptionsAndUntrustedModelsExitWith2() {
    Path target = tmp.resolve("pwned.txt");
    Path hostile = HostileSavedModel.write(tmp.resolve("hostile"), target);
    BssRun r = bss("serve", "--model", hostile.toString(), "--port", "0");
    assertEquals(2, r.exit(), r.err());
    assertTrue(r.err().contains("refusing to run op WriteFile"), r.err());
    assertTrue(!Files.exists(target));
    BssRun port = bss("serve", "--model", tinyKeras().toString(), "--port", "70000");
    assertEquals(2, port.exit());
    assertTrue(port.err().contains("--port: expected 0..65535, found 70000"), port.err());
    BssRun batch = bss("serve", "--model", tinyKeras().toString(), "--max-batch", "0");
    assertEquals(2, batch.exit());
    assertTrue(batch.err().contains("--max-batch"), batch.err());
    BssRun missing = bss("serve", "--model", tmp.resolve("nope").toString());
    assertEquals(2, missing.exit());
    assertTrue(missing.err().contains("no such file"), missing.err());
  }

  /** The test JVM's class path (surefire's, when it runs the tests through a manifest-only jar). */
  private static String classPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }

  @Test
  void sigtermLetsTheRequestInFlightFinish() throws Exception {
    // A 3 s batch timeout keeps one request in flight while SIGTERM arrives.
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classPath(), BssCommand.class.getName(), "serve", "--model", tinyKeras().toString(), "--port", "0",
        "--name", "tiny", "--batch-timeout-ms", "3000", "--threads", "1"));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      // Read the server's output on its own thread: the start line first, everything up to its exit after.
      java.util.concurrent.LinkedBlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
      StringBuffer all = new StringBuffer();
      Thread reader = new Thread(() -> {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
            StandardCharsets.UTF_8))) {
          String l;
          while ((l = out.readLine()) != null) {
            System.out.println("serve: " + l);
            all.append(l).append('\n');
            lines.add(l);
          }
        } catch (java.io.IOException e) {
          all.append("(output closed: ").append(e.getMessage()).append(")\n");
        }
      });
      reader.start();
      String line;
      Matcher m = null;
      while ((line = lines.poll(120, TimeUnit.SECONDS)) != null) {
        if (line.startsWith("bss serve: model 'tiny'")) {
          m = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/v1/models/tiny:predict").matcher(line);
          break;
        }
      }
      assertNotNull(m, "no start line");
      assertTrue(m.find(), line);
      URI base = URI.create("http://127.0.0.1:" + m.group(1) + "/");
      HttpClient client = HttpClient.newHttpClient();
      StringBuilder img = new StringBuilder("[");
      for (int y = 0; y < 32; y++) {
        img.append(y == 0 ? "" : ",").append("[").append("[0.5],".repeat(31)).append("[0.5]]");
      }
      img.append("]");
      long t0 = System.nanoTime();
      CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(HttpRequest.newBuilder(
          base.resolve("/v1/models/tiny:predict")).POST(HttpRequest.BodyPublishers.ofString("{\"instances\": ["
          + img + "]}")).build(), HttpResponse.BodyHandlers.ofString());
      Thread.sleep(800);
      p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
      HttpResponse<String> r = inFlight.get(60, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.body());
      assertTrue(r.body().startsWith("{\"predictions\": [{\"decoded1\""), r.body().substring(0, 60));
      assertTrue(System.nanoTime() - t0 > 2_000_000_000L, "the request was not held by the batch timeout");
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server did not stop");
      reader.join(10_000);
      assertTrue(all.toString().contains("bss serve: stopped"), all.toString());
      assertThrows(java.io.IOException.class, () -> client.send(HttpRequest.newBuilder(base.resolve("/healthz"))
          .build(), HttpResponse.BodyHandlers.ofString()));
    } finally {
      p.destroyForcibly();
    }
  }
}
