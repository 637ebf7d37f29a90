package dev.bss.train.cli;

import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
    BssRun r = bss("bench", "--config", "tiny", "--batch", "1,4", "--iterations", "2", "--warmup", "1",
        "--peak-size", "256", "--peak-runs", "2");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("samples/s"), r.out());
    assertTrue(r.out().contains("FP32 peak: "), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("4 ") && l.contains("%")), r.out());
    assertEquals(2, bss("bench", "--what", "everything").exit());
    assertEquals(2, bss("bench", "--iterations", "0").exit());
    assertEquals(2, bss("bench", "--precision", "fp8").exit());
    List<InferenceBench.Timing> timings = InferenceBench.run(ModelConfig.tiny(), new int[] {2}, 3, 0);
    assertEquals(1, timings.size());
    assertTrue(timings.get(0).samplesPerSecond() > 0 && timings.get(0).p90Millis() >= timings.get(0).medianMillis());
  }

  @Test
  void benchJsonParsesAndItsPercentagesFollowFromItsNumbers() {
    // Inference: the training graph's first step (Grappler) costs more than this test should.
    BssRun r = bss("bench", "--what", "infer", "--config", "tiny", "--batch", "2", "--iterations", "2", "--warmup",
        "1", "--peak-size", "256", "--peak-runs", "2", "--profile", "5", "--json");
    assertEquals(0, r.exit(), r.err());
    JsonObject json = JsonParser.parseString(r.out()).getAsJsonObject();
    assertEquals("infer", json.get("what").getAsString());
    assertEquals("float32", json.get("precision").getAsString());
    double peak = json.get("peak_gflops").getAsDouble();
    long flops = json.get("flops_per_sample").getAsLong();
    assertTrue(peak > 0 && flops == json.get("inference_flops_per_sample").getAsLong(), r.out());
    assertTrue(json.get("training_flops_per_sample").getAsLong() > flops, r.out());
    JsonArray cases = json.getAsJsonArray("cases");
    assertEquals(1, cases.size());
    JsonObject c = cases.get(0).getAsJsonObject();
    assertEquals(2, c.get("batch").getAsInt());
    double samples = c.get("samples_per_second").getAsDouble();
    assertEquals(samples * flops / 1e9, c.get("gflops").getAsDouble(), 1e-9 * samples * flops);
    assertEquals(100 * c.get("gflops").getAsDouble() / peak, c.get("percent_of_peak").getAsDouble(), 1e-9);
    JsonArray top = c.getAsJsonObject("profile").getAsJsonArray("top");
    assertTrue(top.size() > 0 && top.size() <= 5, r.out());
    double previous = Double.MAX_VALUE;
    for (var op : top) {
      double ms = op.getAsJsonObject().get("ms").getAsDouble();
      assertTrue(ms <= previous, "op types sorted by time: " + top);
      previous = ms;
    }
  }
}
