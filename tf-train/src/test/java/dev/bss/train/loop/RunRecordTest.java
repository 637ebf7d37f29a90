package dev.bss.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bss.model.ModelConfig;
import dev.bss.train.data.DataSource;
import dev.bss.train.data.Datasets;
import dev.bss.train.data.ImageSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** run.json as a typed record: its layout, the data's provenance, and how a run ended. */
class RunRecordTest {

  private static JsonObject read(Path runFolder) throws Exception {
    return JsonParser.parseString(Files.readString(runFolder.resolve(RunRecord.FILE))).getAsJsonObject();
  }

  @Test
  void recordsTheDataProvenanceAndHowTheRunEnded(@TempDir Path tmp) throws Exception {
    Datasets embedded = DataSource.embedded();
    PairData data = new DatasetsPairData(embedded);
    TrainOptions options = new TrainOptions(ModelConfig.tiny(), "test", 2, 3, 8, 1e-3, 7, 5, tmp, false, 0, 0, 0,
        0);
    RunRecord run = RunRecord.start(options, data, Devices.choose("cpu", 1), 1, List.of("bss", "train"));
    run.write(tmp);
    JsonObject json = read(tmp);
    // The layout run.json had before it was a record, with the provenance after the data's description; null
    // entries (no --init, no --pairs, not resumed, not ended) are left out.
    assertEquals(List.of("format", "command_line", "preset", "model_config", "training", "seed", "versions", "device",
        "data", "data_provenance", "started"), new ArrayList<>(json.keySet()));
    JsonObject provenance = json.getAsJsonObject("data_provenance");
    assertEquals(embedded.description(), provenance.get("source").getAsString());
    for (ImageSet set : embedded.sets()) {
      JsonObject recorded = provenance.getAsJsonObject("sets").getAsJsonObject(set.name());
      assertEquals(set.size(), recorded.get("images").getAsInt(), set.name());
      assertEquals(set.pixelSum(), recorded.get("pixel_sum").getAsLong(), set.name());
    }
    assertEquals(7, json.get("seed").getAsLong());
    assertEquals("cpu", json.getAsJsonObject("device").get("used").getAsString());

    Instant finished = Instant.parse("2026-01-02T03:04:05Z");
    run.ended(new RunRecord.Ending(Trainer.Status.EARLY_STOPPED, 2, 1, 12.5, null, tmp.resolve("saved_model"),
        Map.of("draws", 1), finished, 3.25, tmp.resolve("final"))).write(tmp);
    json = read(tmp);
    assertEquals("early_stopped", json.get("status").getAsString());
    assertEquals(2, json.get("epochs_done").getAsInt());
    assertEquals(1, json.get("best_epoch").getAsInt());
    assertEquals(tmp.resolve("saved_model").toString(), json.get("saved_model").getAsString());
    assertEquals(1, json.getAsJsonObject("evaluation").get("draws").getAsInt());
    assertEquals(finished.toString(), json.get("finished").getAsString());
    assertEquals(3.25, json.get("wall_seconds").getAsDouble());
    assertEquals(tmp.resolve("final").toString(), json.get("final_model").getAsString());
    assertFalse(json.has("message"));

    // A run that stopped on a non-finite loss says why and names no final model.
    run.ended(new RunRecord.Ending(Trainer.Status.NON_FINITE_LOSS, 1, 1, 12.5, "loss became NaN", null, null,
        finished, null, null)).write(tmp);
    json = read(tmp);
    assertEquals("non_finite_loss", json.get("status").getAsString());
    assertEquals("loss became NaN", json.get("message").getAsString());
    assertFalse(json.has("final_model") || json.has("wall_seconds") || json.has("saved_model"));
  }

  @Test
  void aSourceWithoutItsOwnProvenanceIsRecordedByItsDescription() {
    PairData plain = new PairData() {
      @Override
      public BatchStream training(long seed) {
        throw new UnsupportedOperationException();
      }

      @Override
      public BatchStream test(long seed) {
        throw new UnsupportedOperationException();
      }

      @Override
      public String description() {
        return "hand-made pairs";
      }
    };
    assertEquals(Map.of("source", "hand-made pairs"), plain.provenance());
  }
}
