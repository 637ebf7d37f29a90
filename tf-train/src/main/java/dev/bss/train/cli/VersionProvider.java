package dev.bss.train.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** Prints the bss version and the TensorFlow versions (Java bindings and native runtime). */
public final class VersionProvider implements CommandLine.IVersionProvider {

  /** Project and TensorFlow Java versions from the build. */
  public static Properties buildProperties() {
    Properties p = new Properties();
    try (InputStream in = VersionProvider.class.getResourceAsStream("/dev/bss/train/version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // Versions are informative only.
    }
    return p;
  }

  @Override
  public String[] getVersion() {
    Properties p = buildProperties();
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
