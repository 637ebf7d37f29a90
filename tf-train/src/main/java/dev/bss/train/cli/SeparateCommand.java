package dev.bss.train.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code bss separate}: placeholder until its issue lands. */
@Command(name = "separate", mixinStandardHelpOptions = true, description = "Not available yet in this build.")
public final class SeparateCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bss separate: not available yet in this build");
    return 3;
  }
}
