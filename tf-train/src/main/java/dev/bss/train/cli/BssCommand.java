package dev.bss.train.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code bss} command line. */
@Command(
    name = "bss",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Separates 32x32 mixtures of an MNIST digit and a Fashion-MNIST item (TensorFlow Java).",
    subcommands = {
      TrainCommand.class,
      EvaluateCommand.class,
      SeparateCommand.class,
      ExportCommand.class,
      ImportCommand.class,
      CompareCommand.class,
      SummaryCommand.class,
      BenchCommand.class,
      ServeCommand.class,
      CommandLine.HelpCommand.class
    })
public final class BssCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(Cli.newCommandLine().execute(args));
  }
}
