package dev.bss.train.cli;

import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.ModelConfig;
import dev.bss.train.bench.InferenceBench;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bss summary}, {@code bss bench} and the {@code --config} resolution. */
class SummaryBenchCommandsTest {

  @TempDir Path tmp;



  @Test
  void summaryOfTheSeedPrintsTheNotebooksTotals() {
    BssRun r = bss("summary");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("Total params: 4,491,402"), r.out());
    assertTrue(r.out().contains("Trainable params: 4,489,098"), r.out());
    assertTrue(r.out().contains("Non-trainable params: 2,304"), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("multi_head_attention_1 ") && l.contains("592,320")),
        r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("decoded2 ") && l.contains("(None, 32, 32, 1)")), r.out());
  }

  @Test
  void summaryReadsAConfigFile() throws IOException {
    Path file = tmp.resolve("tiny.json");
    Files.writeString(file, "{\"filters\": [8, 16, 32], \"embed_dim\": 24, \"num_heads\": 2, \"ff_dim\": 40,"
        + " \"num_blocks\": 3, \"light_heads\": 2, \"light_ff_dim\": 24, \"cbam_ratio\": 4}");
    BssRun r = bss("summary", "--config", file.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("Total params: 132,066"), r.out());
    assertEquals(ModelConfig.tiny(), ConfigOption.resolve(file.toString()));
    assertEquals(ModelConfig.tiny(), ConfigOption.resolve("tiny"));
  }

  @Test
  void badConfigsAreOneLineUserErrors() throws IOException {
    BssRun missing = bss("summary", "--config", tmp.resolve("nope.json").toString());
    assertEquals(2, missing.exit());
    assertTrue(missing.err().startsWith("bss summary: --config: expected seed, tiny or a JSON config file"),
        missing.err());
    Path bad = tmp.resolve("bad.json");
    Files.writeString(bad, "{\"filters\": [8, 16], \"embed_dim\": 24}");
    BssRun r = bss("summary", "--config", bad.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("'filters' must be a list of 3 integers"), r.err());
    Path unknown = tmp.resolve("unknown.json");
    Files.writeString(unknown, "{\"embedding\": 24}");
    assertThrows(Cli.UserException.class, () -> ConfigOption.resolve(unknown.toString()));
  }

  @Test
  void benchPrintsThroughputAndRejectsBadArguments() {
    BssRun r = bss("bench", "--config", "tiny", "--batch", "1,4", "--iterations", "2", "--warmup", "1");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("samples/s"), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("4 ")), r.out());
    assertEquals(2, bss("bench", "--what", "everything").exit());
    assertEquals(2, bss("bench", "--iterations", "0").exit());
    List<InferenceBench.Timing> timings = InferenceBench.run(ModelConfig.tiny(), new int[] {2}, 3, 0);
    assertEquals(1, timings.size());
    assertTrue(timings.get(0).samplesPerSecond() > 0 && timings.get(0).p90Millis() >= timings.get(0).medianMillis());
  }
}
