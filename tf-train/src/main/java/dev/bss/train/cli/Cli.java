package dev.bss.train.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/** Builds the picocli command line with the project's error handling: one line for a user error, exit code 2. */
public final class Cli {

  /** Exit status for bad input (a user error): wrong arguments, unreadable or invalid files. */
  public static final int EXIT_BAD_INPUT = 2;

  private Cli() {}

  /** A command line whose user errors print one line (a stack trace only with --verbose) and exit with 2. */
  public static CommandLine newCommandLine() {
    CommandLine cl = new CommandLine(new BssCommand());
    // A mistyped option gets one line and a pointer to --help, not the whole usage text.
    cl.setParameterExceptionHandler((ex, args) -> {
      CommandLine failed = ex.getCommandLine();
      PrintWriter err = failed.getErr();
      String command = failed.getParent() == null ? "bss" : "bss " + failed.getCommandName();
      err.println(command + ": " + ex.getMessage() + " (see '" + command + " --help')");
      err.flush();
      return EXIT_BAD_INPUT;
    });
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      PrintWriter err = commandLine.getErr();
      boolean verbose = parseResult.originalArgs().contains("--verbose");
      if (verbose) {
        ex.printStackTrace(err);
      }
      String msg = ErrorMessages.describe(ex);
      err.println("bss " + commandLine.getCommandName() + ": " + msg.lines().findFirst().orElse(msg)
          + (msg.lines().count() > 1 ? "\n" + msg.lines().skip(1).reduce("", (a, b) -> a + "  " + b + "\n").stripTrailing() : ""));
      err.flush();
      return ErrorMessages.exitCode(ex);
    });
    return cl;
  }

  /** An error caused by the user's input, reported as one line with an exit status. */
  public static class UserException extends RuntimeException {
    private final int exitCode;

    public UserException(String message) {
      this(message, EXIT_BAD_INPUT);
    }

    public UserException(String message, int exitCode) {
      super(message);
      this.exitCode = exitCode;
    }

    /** Bad input (status 2) reported with its cause kept for {@code --verbose}. */
    public UserException(String message, Throwable cause) {
      super(message, cause);
      this.exitCode = EXIT_BAD_INPUT;
    }

    public int exitCode() {
      return exitCode;
    }
  }
}
