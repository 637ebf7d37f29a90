package dev.bss.train.cli;

import com.google.gson.JsonParseException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * One line and an exit status for any exception that reaches the command line: file-system exceptions (whose own
 * messages are often just a path, e.g. {@code cannot create X: X}) are said in words, and input errors get status 2.
 */
final class ErrorMessages {

  private ErrorMessages() {}

  /** The message to print (without the {@code bss <command>: } prefix). */
  static String describe(Throwable ex) {
    if (ex instanceof Cli.UserException && ex.getMessage() != null) {
      return ex.getMessage(); // already worded for the user
    }
    FileSystemException fs = find(ex, FileSystemException.class);
    if (fs != null) {
      String what = fs.getFile();
      String problem;
      if (fs instanceof FileAlreadyExistsException) {
        problem = "exists and is not a directory (a folder was to be created there)";
      } else if (fs instanceof NoSuchFileException) {
        problem = "no such file or directory";
      } else if (fs instanceof AccessDeniedException) {
        problem = "permission denied";
      } else if (fs instanceof NotDirectoryException) {
        problem = "not a directory";
      } else {
        problem = fs.getReason() != null ? fs.getReason() : fs.getClass().getSimpleName();
      }
      String context = ex.getMessage() != null && ex != fs && !ex.getMessage().startsWith(fs.getClass().getName())
          && !ex.getMessage().equals(fs.toString()) ? firstPart(ex.getMessage()) : null;
      return (context != null && !context.contains(problem) ? context + ": " : "") + what + ": " + problem;
    }
    if (ex instanceof UncheckedIOException u && u.getCause() != null && isBare(u.getMessage(), u.getCause())) {
      return u.getCause().getClass().getSimpleName() + ": " + u.getCause().getMessage();
    }
    if (ex.getMessage() == null) {
      Throwable cause = ex.getCause();
      return ex.getClass().getSimpleName() + (cause != null && cause.getMessage() != null
          ? " (" + cause.getMessage() + ")" : "");
    }
    return ex.getMessage();
  }

  /** 2 for bad input (user errors, invalid or unreadable files), 1 for anything else. */
  static int exitCode(Throwable ex) {
    if (ex instanceof Cli.UserException ue) {
      return ue.exitCode();
    }
    if (ex instanceof IllegalArgumentException || ex instanceof JsonParseException || ex instanceof ArithmeticException) {
      return Cli.EXIT_BAD_INPUT;
    }
    FileSystemException fs = find(ex, FileSystemException.class);
    if (fs instanceof NoSuchFileException || fs instanceof FileAlreadyExistsException
        || fs instanceof AccessDeniedException || fs instanceof NotDirectoryException) {
      return Cli.EXIT_BAD_INPUT;
    }
    return 1;
  }

  private static String firstPart(String message) {
    int colon = message.indexOf(": ");
    return colon > 0 ? message.substring(0, colon) : message;
  }

  private static boolean isBare(String message, Throwable cause) {
    return message == null || message.equals(cause.toString()) || message.equals(cause.getMessage());
  }

  private static <T extends Throwable> T find(Throwable ex, Class<T> type) {
    for (Throwable t = ex; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }
}
