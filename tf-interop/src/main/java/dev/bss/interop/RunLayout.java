package dev.bss.interop;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The folder layout of a training run, in one place for the trainer (which writes it) and the model readers (which
 * find a run's model in it): {@code final/}, {@code checkpoints/epoch-NNNN/} (1-based completed epochs, at least four
 * digits) and {@code checkpoints/best/}.
 */
public final class RunLayout {

  /** The finished model of a run. */
  public static final String FINAL = "final";

  /** The folder of a run's checkpoints. */
  public static final String CHECKPOINTS = "checkpoints";

  /** The best-weights checkpoint under {@link #CHECKPOINTS}. */
  public static final String BEST = "best";

  private static final Pattern EPOCH_DIR = Pattern.compile("epoch-(\\d{4,})");

  private RunLayout() {}

  /** {@code checkpoints/} of a run folder. */
  public static Path checkpoints(Path runDir) {
    return runDir.resolve(CHECKPOINTS);
  }

  /** Directory name of the checkpoint after {@code epoch} completed epochs (1-based): {@code epoch-0003}. */
  public static String epochDirName(int epoch) {
    return String.format("epoch-%04d", epoch);
  }

  /** The epoch of a directory named {@code epoch-NNNN}, or -1 for any other name. */
  public static long epochOf(Path dir) {
    Matcher m = EPOCH_DIR.matcher(dir.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /** Whether a directory is named like an epoch checkpoint. */
  public static boolean isEpochDir(Path dir) {
    return EPOCH_DIR.matcher(dir.getFileName().toString()).matches();
  }
}
