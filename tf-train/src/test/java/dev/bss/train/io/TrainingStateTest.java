package dev.bss.train.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.train.callbacks.BestWeightsKeeper;
import dev.bss.train.callbacks.EarlyStopping;
import dev.bss.train.callbacks.ReduceLrOnPlateau;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one codec of state.json: exact round trips, the files bss wrote before it, one line for each bad field. */
class TrainingStateTest {

  private static final Path FILE = Path.of("run", "checkpoints", "epoch-0003", "state.json");

  /**
   * The state.json of epoch 3 written by bss before TrainingState existed (commit c8020ca: {@code bss train --config
   * tiny --epochs 3 --steps-per-epoch 4 --batch-size 8 --validate 16 --seed 12345678901234567 ...}), with some of its
   * settings left out for brevity.
   */
  private static final String WRITTEN_BEFORE = """
      {
        "format": "bss-train-checkpoint-1",
        "epoch": 3,
        "global_step": 12,
        "learning_rate": "0.001",
        "stopped": false,
        "run_seed": 12345678901234567,
        "next_data_seed": "-1642183981406368467",
        "settings": {
          "seed": "12345678901234567",
          "batch_size": "8",
          "learning_rate": "0.001",
          "validate": "16",
          "precision": "float32",
          "epochs": "3",
          "eval_samples": "20"
        },
        "callbacks": {
          "early_stopping": {
            "wait": 0,
            "best": "0.394416481256485",
            "best_epoch": 2,
            "stopped_epoch": -1
          },
          "reduce_lr_on_plateau": {
            "wait": 0,
            "cooldown_counter": 0,
            "best": "0.394416481256485"
          },
          "best_weights": {
            "best": "0.394416481256485",
            "best_epoch": 2
          }
        },
        "best_checkpoint": "best",
        "fit": {
          "callbacks": {
            "early_stopping_patience": 5,
            "reduce_lr_patience": 5,
            "reduce_lr_factor": 0.5,
            "reduce_lr_min_delta": 1.0E-4,
            "min_lr": 1.0E-6
          }
        },
        "history": [
          {
            "loss": "0.43743276596069336",
            "decoded1_loss": "0.23862898349761963",
            "decoded2_loss": "0.19880378246307373",
            "val_loss": "0.42472628343592694",
            "val_decoded1_loss": "0.23560065995620863",
            "val_decoded2_loss": "0.1891256234797183",
            "learning_rate": "0.0010000000474974513"
          },
          {
            "loss": "0.40763938426971436",
            "decoded1_loss": "0.22740866243839264",
            "decoded2_loss": "0.18023069202899933",
            "val_loss": "0.42331172250958893",
            "val_decoded1_loss": "0.23524567350344222",
            "val_decoded2_loss": "0.1880660490061467",
            "learning_rate": "0.0010000000474974513"
          },
          {
            "loss": "0.394416481256485",
            "decoded1_loss": "0.2207326889038086",
            "decoded2_loss": "0.173683762550354",
            "val_loss": "0.42212342329903724",
            "val_decoded1_loss": "0.23538666546331513",
            "val_decoded2_loss": "0.1867367578357221",
            "learning_rate": "0.0010000000474974513"
          }
        ]
      }
      """;

  /** A state with every kind of value: a seed beyond a double's integers, +infinity, null fit entries. */
  static TrainingState sample() {
    Map<String, Object> pairs = new LinkedHashMap<>();
    pairs.put("path", "pairs.npz");
    pairs.put("pairs", 64);
    pairs.put("shuffle", true);
    Map<String, Object> fit = new LinkedHashMap<>();
    fit.put("callbacks", Map.of("reduce_lr_factor", 0.5));
    fit.put("init", null);
    fit.put("pairs", pairs);
    Map<String, Double> row = new LinkedHashMap<>();
    row.put("loss", 0.1 / 3);
    row.put("learning_rate", (double) 5e-4f);
    return new TrainingState(3, 30, 5e-4f, true, 12345678901234567L, -1642183981406368467L,
        Map.of("seed", "12345678901234567"),
        new TrainingState.Callbacks(new EarlyStopping.State(2, 0.1 / 3, 0, 2),
            new ReduceLrOnPlateau.State(1, 0, Double.POSITIVE_INFINITY), new BestWeightsKeeper.State(0.1 / 3, 0)),
        fit, List.of(row, row, row));
  }

  @Test
  void roundTripsExactly() {
    TrainingState state = sample();
    String text = Checkpoint.stateJson(state);
    assertEquals(state, Checkpoint.parseState(text, FILE));
    // JSON numbers hold no infinity and most readers hold seeds as doubles: both are written as exact text.
    assertTrue(text.contains("\"best\": \"Infinity\"") && text.contains("\"next_data_seed\": \"-1642183981406368467\""),
        text);
    assertTrue(text.contains("\"learning_rate\": \"5.0E-4\"") && text.contains("\"best_checkpoint\": \"best\""), text);
    assertFalse(text.contains("null"), text);
  }

  @Test
  void readsWhatBssWroteBeforeAndWritesItAgainByteForByte() {
    TrainingState state = Checkpoint.parseState(WRITTEN_BEFORE, FILE);
    assertEquals(3, state.epoch());
    assertEquals(12, state.globalStep());
    assertEquals(1e-3f, state.learningRate());
    assertEquals(12345678901234567L, state.runSeed());
    assertEquals("16", state.settings().get("validate"));
    assertEquals(2, state.callbacks().bestWeights().bestEpoch());
    assertEquals(0.394416481256485, state.callbacks().earlyStopping().best());
    assertEquals(0.0010000000474974513, state.history().get(2).get("learning_rate"));
    assertEquals(5, ((Map<?, ?>) state.fit().get("callbacks")).get("early_stopping_patience"));
    assertEquals(WRITTEN_BEFORE, Checkpoint.stateJson(state));
  }

  @Test
  void aCheckpointFromBeforeSettingsWereRecordedReadsWithNone() {
    String withoutSettingsAndFit = WRITTEN_BEFORE
        .replaceFirst("(?s)  \"settings\": \\{.*?\\},\n  \"callbacks\"", "  \"callbacks\"")
        .replaceFirst("(?s)  \"fit\": \\{.*?\\}\n  \\},\n", "");
    TrainingState state = Checkpoint.parseState(withoutSettingsAndFit, FILE);
    assertEquals(Map.of(), state.settings());
    assertEquals(Map.of(), state.fit());
    assertEquals(3, state.history().size());
  }

  @Test
  void eachMissingOrMalformedFieldIsNamedInOneLine() {
    String[][] cases = {
        {"\"global_step\": 12,\n", "", "'global_step' expected an integer, found none"},
        {"\"epoch\": 3", "\"epoch\": 2.5", "'epoch' expected an integer, found 2.5"},
        {"\"learning_rate\": \"0.001\"", "\"learning_rate\": true",
            "'learning_rate' expected a float32 number, found true"},
        {"\"stopped\": false", "\"stopped\": \"no\"", "'stopped' expected true or false, found \"no\""},
        {"\"cooldown_counter\": 0,\n", "",
            "'callbacks.reduce_lr_on_plateau.cooldown_counter' expected an integer, found none"},
        {"\"best\": \"0.394416481256485\",\n      \"best_epoch\": 2,",
            "\"best\": \"low\",\n      \"best_epoch\": 2,",
            "'callbacks.early_stopping.best' expected a number, found \"low\""},
        {"\"loss\": \"0.40763938426971436\"", "\"loss\": [1]", "'history[1].loss' expected a number, found [1]"},
        {"\"format\": \"bss-train-checkpoint-1\"", "\"format\": \"bss-train-checkpoint-9\"",
            "'format' expected bss-train-checkpoint-1, found bss-train-checkpoint-9"},
        {"\"next_data_seed\": \"-1642183981406368467\"", "\"next_data_seed\": \"99999999999999999999\"",
            "'next_data_seed' expected an integer, found \"99999999999999999999\""},
    };
    for (String[] c : cases) {
      assertTrue(WRITTEN_BEFORE.contains(c[0]), c[0]);
      String text = WRITTEN_BEFORE.replaceFirst(java.util.regex.Pattern.quote(c[0]),
          java.util.regex.Matcher.quoteReplacement(c[1]));
      var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.parseState(text, FILE));
      assertEquals(FILE + ": " + c[2], e.getMessage());
    }
    var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.parseState("[1, 2]", FILE));
    assertEquals(FILE + ": expected a JSON object, found [1,2]", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.parseState("{\"epoch\": ", FILE));
    assertTrue(e.getMessage().startsWith(FILE + ": expected a JSON object, found invalid JSON")
        && !e.getMessage().contains("\n"), e.getMessage());
  }
}
