package dev.bss.train.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code bss summary}: placeholder until its issue lands. */
@Command(name = "summary", mixinStandardHelpOptions = true, description = "Not available yet in this build.")
public final class SummaryCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bss summary: not available yet in this build");
    return 3;
  }
}
