package dev.bss.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run folder layout shared by the trainer and the model readers. */
class RunLayoutTest {

  @Test
  void epochNamesRoundTripAndOthersAreNotEpochs() {
    assertEquals("epoch-0003", RunLayout.epochDirName(3));
    assertEquals(3, RunLayout.epochOf(Path.of(RunLayout.epochDirName(3))));
    assertEquals(12345, RunLayout.epochOf(Path.of("epoch-12345")));
    for (String other : new String[] {"epoch-3", ".epoch-0003.123", "best", "epoch-0003.old", "epoch-"}) {
      assertEquals(-1, RunLayout.epochOf(Path.of(other)), other);
      assertFalse(RunLayout.isEpochDir(Path.of(other)), other);
    }
    assertTrue(RunLayout.isEpochDir(Path.of("epoch-0001")));
  }

  @Test
  void aRunsModelIsTheNumericallyLatestCompleteEpochWithoutFinalOrBest(@TempDir Path run) throws Exception {
    for (String name : new String[] {"epoch-9999", "epoch-10000", "epoch-10001"}) {
      Files.createDirectories(RunLayout.checkpoints(run).resolve(name));
    }
    for (String name : new String[] {"epoch-9999", "epoch-10000"}) {
      Files.writeString(RunLayout.checkpoints(run).resolve(name).resolve(ModelFiles.CHECKPOINT_WEIGHTS), "");
    }
    // epoch-10001 has no weights; 10000 beats 9999 by number, not by name
    assertEquals(RunLayout.checkpoints(run).resolve("epoch-10000"), ModelFiles.runModel(run));
    Files.createDirectories(RunLayout.checkpoints(run).resolve(RunLayout.BEST));
    Files.writeString(RunLayout.checkpoints(run).resolve(RunLayout.BEST).resolve(ModelFiles.CHECKPOINT_WEIGHTS), "");
    assertEquals(RunLayout.checkpoints(run).resolve(RunLayout.BEST), ModelFiles.runModel(run));
  }
}
