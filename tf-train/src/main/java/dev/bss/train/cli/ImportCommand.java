package dev.bss.train.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code bss import}: placeholder until its issue lands. */
@Command(name = "import", mixinStandardHelpOptions = true, description = "Not available yet in this build.")
public final class ImportCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bss import: not available yet in this build");
    return 3;
  }
}
