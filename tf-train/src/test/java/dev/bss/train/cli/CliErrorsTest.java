package dev.bss.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Mistyped command lines get one line naming the problem and exit status 2. */
class CliErrorsTest {

  private static String[] run(String... args) {
    CommandLine cl = Cli.newCommandLine();
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    cl.setErr(new PrintWriter(err));
    cl.setOut(new PrintWriter(out));
    int status = cl.execute(args);
    return new String[] {Integer.toString(status), err.toString(), out.toString()};
  }

  @Test
  void badOptionValueIsOneLineWithExitTwo() {
    String[] r = run("train", "--epochs", "x");
    assertEquals("2", r[0]);
    assertEquals(1, r[1].strip().lines().count(), r[1]);
    assertTrue(r[1].startsWith("bss train: Invalid value for option '--epochs': 'x'"), r[1]);
    assertTrue(r[1].contains("see 'bss train --help'"), r[1]);
  }

  @Test
  void unknownCommandIsOneLineWithExitTwo() {
    String[] r = run("trian");
    assertEquals("2", r[0]);
    assertEquals(1, r[1].strip().lines().count(), r[1]);
    assertTrue(r[1].startsWith("bss: Unmatched argument at index 0: 'trian'"), r[1]);
  }

  @Test
  void missingRequiredOptionIsOneLineWithExitTwo() {
    String[] r = run("compare", "--model");
    assertEquals("2", r[0]);
    assertEquals(1, r[1].strip().lines().count(), r[1]);
    assertTrue(r[1].contains("'--model'"), r[1]);
  }

  @Test
  void helpListsEveryCommand() {
    String[] r = run("--help");
    assertEquals("0", r[0]);
    for (String command : new String[] {"train", "evaluate", "separate", "export", "import", "compare", "summary",
        "bench"}) {
      assertTrue(r[2].contains("  " + command + " "), command + " missing from:\n" + r[2]);
    }
  }
}
