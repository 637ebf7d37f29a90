package dev.bss.train.io;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The versions recorded at build time ({@code version.properties}): bss and TensorFlow Java. */
public final class BuildProperties {

  private BuildProperties() {}

  /** Project and TensorFlow Java versions from the build; empty when the resource is missing (informative only). */
  public static Properties read() {
    Properties p = new Properties();
    try (InputStream in = BuildProperties.class.getResourceAsStream("/dev/bss/train/version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // Versions are informative only.
    }
    return p;
  }
}
