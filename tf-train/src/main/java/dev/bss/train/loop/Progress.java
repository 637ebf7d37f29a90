package dev.bss.train.loop;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Per-epoch progress: a live bar with loss, learning rate and samples/s on a terminal, otherwise plain lines (about
 * ten per epoch) that read well in a log file.
 */
public final class Progress implements AutoCloseable {

  private final PrintStream out;
  private final boolean terminal;
  private ProgressBar bar;
  private int steps;
  private int lastLine;
  private String prefix = "";

  public Progress(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  /** True when stdout is an interactive terminal (Java 17: {@code System.console()} is null otherwise). */
  public static boolean stdoutIsTerminal() {
    return System.console() != null;
  }

  /** Starts an epoch of {@code steps} steps. */
  public void startEpoch(int epoch, int epochs, int steps) {
    this.steps = steps;
    this.lastLine = 0;
    this.prefix = String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs);
    if (terminal) {
      bar = new ProgressBarBuilder().setTaskName(prefix).setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
          .setUpdateIntervalMillis(250).setConsumer(new ConsoleProgressBarConsumer(out)).build();
    }
  }

  /** Reports that {@code step} (1-based) steps are done. */
  public void step(int step, double meanLoss, float lr, double samplesPerSecond) {
    if (bar != null) {
      // Short enough that an 80-column terminal still shows a bar.
      bar.stepTo(step);
      bar.setExtraMessage(String.format(Locale.ROOT, " loss %.5f lr %.2g %.0f/s", meanLoss, lr, samplesPerSecond));
    } else if (step == steps || step * 10 / steps > lastLine) {
      lastLine = step * 10 / steps;
      out.printf(Locale.ROOT, "%s  step %d/%d  loss %.5f  lr %.3g  %.0f samples/s%n", prefix, step, steps, meanLoss,
          lr, samplesPerSecond);
      out.flush();
    }
  }

  /** Ends the epoch with its summary line. */
  public void endEpoch(String summary) {
    if (bar != null) {
      bar.close();
      bar = null;
    }
    out.println(summary);
    out.flush();
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }
}
