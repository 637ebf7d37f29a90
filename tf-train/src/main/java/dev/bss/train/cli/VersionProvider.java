package dev.bss.train.cli;

import dev.bss.train.io.BuildProperties;
import java.util.Properties;
import picocli.CommandLine;

/** Prints the bss version and the TensorFlow versions (Java bindings and native runtime). */
public final class VersionProvider implements CommandLine.IVersionProvider {

  @Override
  public String[] getVersion() {
    Properties p = BuildProperties.read();
    String runtime;
    try {
      runtime = org.tensorflow.TensorFlow.version();
    } catch (Throwable t) {
      runtime = "unavailable (" + t.getClass().getSimpleName() + ")";
    }
    return new String[] {
      "bss " + p.getProperty("bss.version", "unknown"),
      "TensorFlow Java " + p.getProperty("tensorflow.java.version", "unknown") + ", TensorFlow runtime " + runtime
    };
  }
}
