package dev.bss.train.cli;

import picocli.CommandLine.Option;

/**
 * {@code --overwrite}: the one switch of the commands that write a model ({@code import}, {@code export}); what it
 * allows, and what it never does, is {@link OutputTarget#check}'s.
 */
public final class OverwriteOption {

  @Option(names = "--overwrite", description = "replace an existing non-empty OUT (never the source or a folder "
      + "holding it)")
  boolean overwrite;
}
