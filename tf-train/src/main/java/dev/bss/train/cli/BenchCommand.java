package dev.bss.train.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code bss bench}: placeholder until its issue lands. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Not available yet in this build.")
public final class BenchCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bss bench: not available yet in this build");
    return 3;
  }
}
