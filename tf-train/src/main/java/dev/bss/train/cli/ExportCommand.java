package dev.bss.train.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code bss export}: placeholder until its issue lands. */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Not available yet in this build.")
public final class ExportCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bss export: not available yet in this build");
    return 3;
  }
}
