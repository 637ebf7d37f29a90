package dev.bss.train.cli;

import java.util.Locale;

/** Refuses up front a count whose arrays would not fit in this JVM's heap, instead of an OutOfMemoryError later. */
final class Memory {

  private Memory() {}

  /**
   * Checks that {@code count} items of {@code bytesPerItem} bytes fit in half of the maximum heap (and in Java
   * arrays).
   *
   * @param what names the option or file in the message, e.g. {@code "--samples"}
   * @param unit what is counted, e.g. {@code "mixtures"}
   * @throws Cli.UserException saying how many would fit
   */
  static void require(String what, long count, long bytesPerItem, String unit) {
    long budget = Runtime.getRuntime().maxMemory() / 2;
    long perArray = (Integer.MAX_VALUE - 8L) / 1024;
    long fit = Math.min(budget / bytesPerItem, perArray);
    if (count > fit) {
      throw new Cli.UserException(String.format(Locale.ROOT, "%s: %d %s need about %d MB of memory at once; this "
          + "JVM allows at most %d (its heap is %d MB; more with BSS_JAVA_OPTS=-Xmx...)", what, count, unit,
          Math.multiplyHigh(count, bytesPerItem) != 0 ? Long.MAX_VALUE >> 20 : count * bytesPerItem >> 20, fit,
          Runtime.getRuntime().maxMemory() >> 20));
    }
  }
}
