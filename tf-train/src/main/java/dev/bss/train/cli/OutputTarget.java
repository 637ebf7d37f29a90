package dev.bss.train.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Guards the output of {@code bss import} and {@code bss export}: a command never deletes or replaces what it did not
 * create. An existing non-empty target is refused unless {@code --overwrite} is given, and even then never when it is
 * the source model, contains it, or is an existing part of it (e.g. {@code bss export RUN_DIR --format npz --out
 * RUN_DIR} or {@code --out RUN_DIR/final}).
 */
final class OutputTarget {

  private OutputTarget() {}

  /**
   * Checks {@code out} before anything is read or written.
   *
   * @param option the option naming the target in messages ({@code --out}, {@code --to})
   * @param directory whether the format writes a directory (else a single file)
   * @throws Cli.UserException (status 2) with one line naming the target
   */
  static void check(String option, Path out, Path source, boolean directory, boolean overwrite) {
    Path target = out.toAbsolutePath().normalize();
    if (source != null && Files.exists(source) && Files.exists(out)) {
      Path src = real(source);
      Path dst = real(out);
      if (src.startsWith(dst)) {
        throw new Cli.UserException(option + " " + out + ": " + (src.equals(dst) ? "is the source model"
            : "contains the source model " + source) + "; writing there would destroy it (choose another " + option
            + ")");
      }
      if (dst.startsWith(src) && Files.isDirectory(src)) {
        throw new Cli.UserException(option + " " + out + ": is part of the source model " + source + "; replacing it "
            + "would change the source (choose another " + option + ")");
      }
    }
    if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
      Path parent = target.getParent();
      if (parent != null && Files.exists(parent) && !Files.isDirectory(parent)) {
        throw new Cli.UserException(option + " " + out + ": " + parent + " is a file, not a folder");
      }
      return;
    }
    if (directory && !Files.isDirectory(out)) {
      throw new Cli.UserException(option + " " + out + ": exists and is a file; this format writes a folder");
    }
    if (!directory && Files.isDirectory(out)) {
      throw new Cli.UserException(option + " " + out + ": exists and is a folder; this format writes a single file");
    }
    if (!overwrite && !isEmpty(out)) {
      throw new Cli.UserException(option + " " + out + ": already exists" + (directory ? " and is not empty" : "")
          + "; pass --overwrite to replace it");
    }
  }

  private static boolean isEmpty(Path out) {
    try {
      if (Files.isDirectory(out)) {
        try (Stream<Path> entries = Files.list(out)) {
          return entries.findAny().isEmpty();
        }
      }
      return Files.size(out) == 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static Path real(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p.toAbsolutePath().normalize();
    }
  }
}
