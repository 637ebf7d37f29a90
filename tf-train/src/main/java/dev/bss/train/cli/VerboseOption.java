package dev.bss.train.cli;

import picocli.CommandLine.Option;

/**
 * {@code --verbose}: stack traces on errors. One mixin for every command; {@link Cli}'s error handler reads the
 * flag from the parsed arguments, so a command only declares it.
 */
public final class VerboseOption {

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;
}
