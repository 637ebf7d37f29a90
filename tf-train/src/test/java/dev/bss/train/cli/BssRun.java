package dev.bss.train.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/**
 * Output and exit status of one in-process {@code bss} command line, as the launcher would run it.
 *
 * @param exit the exit status
 * @param out what the command printed to its standard output
 * @param err what the command printed to its standard error
 * @param seconds how long it ran
 */
record BssRun(int exit, String out, String err, double seconds) {

  /** Runs {@code bss args...} and echoes it to the test log (what CI shows when a test fails). */
  static BssRun bss(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Cli.newCommandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    long t0 = System.nanoTime();
    int exit = cl.execute(args);
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("bss %s -> %d in %.1f s%n%s%s", String.join(" ", args), exit, seconds, out, err);
    return new BssRun(exit, out.toString(), err.toString(), seconds);
  }
}
