package dev.bss.train.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code bss compare}: placeholder until its issue lands. */
@Command(name = "compare", mixinStandardHelpOptions = true, description = "Not available yet in this build.")
public final class CompareCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bss compare: not available yet in this build");
    return 3;
  }
}
