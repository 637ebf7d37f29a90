package dev.bss.train.bench;

import java.lang.management.ManagementFactory;

/**
 * CPU time of this process (every thread, TensorFlow's native ones included), for rates that hold on a shared
 * machine: time slices lost to other processes do not count, unlike wall time.
 */
public final class CpuTime {

  private CpuTime() {}

  /** Process CPU time in nanoseconds (user + system), or -1 where the JVM does not report it. */
  public static long processNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }
}
