package dev.bss.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The resume table's rules on recorded and given settings, without a run. */
class ResumeCheckTest {

  private static final Path CHECKPOINT = Path.of("run", "checkpoints", "epoch-0002");

  @Test
  void aChangedPrecisionIsRefusedNamingBothValues() {
    var e = assertThrows(IllegalArgumentException.class, () -> ResumeCheck.check(
        Map.of("precision", "float32", "seed", "1"), Map.of("precision", "bf16", "seed", "1"), 2, CHECKPOINT));
    assertEquals("--resume: " + CHECKPOINT + " was made with --precision float32 (given bf16); a resumed run must "
        + "keep these to end as an uninterrupted run would (leave them out to use the checkpoint's)", e.getMessage());
  }

  @Test
  void theSamePrecisionAndAnOlderCheckpointWithoutItPass() {
    assertEquals(List.of(), ResumeCheck.check(Map.of("precision", "bf16"), Map.of("precision", "bf16"), 2,
        CHECKPOINT));
    // A checkpoint from before precision was recorded gives nothing to compare with.
    assertEquals(List.of(), ResumeCheck.check(Map.of("seed", "1"), Map.of("precision", "float32", "seed", "1"), 2,
        CHECKPOINT));
    assertTrue(ResumeCheck.ROWS.stream().anyMatch(r -> r.key().equals("precision")
        && r.rule() == ResumeCheck.Rule.SAME));
  }
}
