package dev.bss.train.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/**
 * Runs bss command lines in this JVM (started by {@link HostileInputsTest} with a bounded heap) and prints, per case,
 * its exit status, the peak heap used while it ran and the first line of its error output:
 * {@code CASE <name> exit=<n> peakMB=<m> err=<line>}. Arguments: {@code <name> <bss args...> ;; <name> ...}.
 */
public final class HostileRunner {

  private HostileRunner() {}

  public static void main(String[] args) {
    List<List<String>> cases = new ArrayList<>();
    List<String> current = new ArrayList<>();
    for (String a : args) {
      if (a.equals(";;")) {
        cases.add(current);
        current = new ArrayList<>();
      } else {
        current.add(a);
      }
    }
    if (!current.isEmpty()) {
      cases.add(current);
    }
    for (List<String> c : cases) {
      String name = c.get(0);
      String[] bssArgs = c.subList(1, c.size()).toArray(String[]::new);
      System.gc();
      List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
          .filter(p -> p.getType() == MemoryType.HEAP).toList();
      heap.forEach(MemoryPoolMXBean::resetPeakUsage);
      StringWriter err = new StringWriter();
      CommandLine cl = Cli.newCommandLine();
      cl.setOut(new PrintWriter(new StringWriter(), true));
      cl.setErr(new PrintWriter(err, true));
      int exit;
      try {
        exit = cl.execute(bssArgs);
      } catch (OutOfMemoryError e) {
        exit = 99;
        err.write("OutOfMemoryError " + e.getMessage());
      }
      // The sum of the pools' peaks bounds the peak of the whole heap from above.
      long peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
      String first = err.toString().lines().findFirst().orElse("");
      System.out.println("CASE " + name + " exit=" + exit + " peakMB=" + (peak >> 20) + " errLines="
          + err.toString().strip().lines().count() + " err=" + first);
      System.out.flush();
    }
    System.out.println("DONE " + Arrays.toString(new int[] {cases.size()}));
  }
}
