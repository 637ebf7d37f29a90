package dev.bss.train.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code bss train}: placeholder until its issue lands. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Not available yet in this build.")
public final class TrainCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bss train: not available yet in this build");
    return 3;
  }
}
