package dev.bss.train.cli;

import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Mistyped command lines get one line naming the problem and exit status 2. */
class CliErrorsTest {


  @Test
  void badOptionValueIsOneLineWithExitTwo() {
    BssRun r = bss("train", "--epochs", "x");
    assertEquals(2, r.exit());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("bss train: Invalid value for option '--epochs': 'x'"), r.err());
    assertTrue(r.err().contains("see 'bss train --help'"), r.err());
  }

  @Test
  void unknownCommandIsOneLineWithExitTwo() {
    BssRun r = bss("trian");
    assertEquals(2, r.exit());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("bss: Unmatched argument at index 0: 'trian'"), r.err());
  }

  @Test
  void missingRequiredOptionIsOneLineWithExitTwo() {
    BssRun r = bss("compare", "--model");
    assertEquals(2, r.exit());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("'--model'"), r.err());
  }

  @Test
  void helpListsEveryCommand() {
    BssRun r = bss("--help");
    assertEquals(0, r.exit());
    for (String command : new String[] {"train", "evaluate", "separate", "export", "import", "compare", "summary",
        "bench"}) {
      assertTrue(r.out().contains("  " + command + " "), command + " missing from:\n" + r.out());
    }
  }
}
