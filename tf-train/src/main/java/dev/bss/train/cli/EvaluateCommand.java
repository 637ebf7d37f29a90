package dev.bss.train.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code bss evaluate}: placeholder until its issue lands. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, description = "Not available yet in this build.")
public final class EvaluateCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bss evaluate: not available yet in this build");
    return 3;
  }
}
