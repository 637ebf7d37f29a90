package dev.bss.train.cli;

import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code bss bench --what serve}, bounded: the tiny network, 1 s per concurrency, zero errors. */
class ServeBenchCommandTest {

  @Test
  void serveBenchReportsThroughputLatencyAndTheBatchingGain() {
    BssRun r = bss("bench", "--what", "serve", "--config", "tiny", "--seconds", "1", "--concurrency", "1,8");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("errors: none"), r.out());
    Matcher rows = Pattern.compile("(?m)^\\s+(1|64)\\s+(1|8)\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)\\s+0\\s+([0-9.]+)$")
        .matcher(r.out());
    int count = 0;
    while (rows.find()) {
      count++;
      assertTrue(Double.parseDouble(rows.group(3)) > 0, rows.group());
      if (rows.group(1).equals("1")) {
        assertEquals(1.0, Double.parseDouble(rows.group(6)), 1e-9, "batching off means batches of one");
      }
    }
    assertEquals(4, count, r.out());
    assertTrue(r.out().contains("gain from batching at concurrency 8:"), r.out());
    assertEquals(2, bss("bench", "--what", "serve", "--seconds", "0").exit());
    assertEquals(2, bss("bench", "--what", "serve", "--concurrency", "0").exit());
  }
}
