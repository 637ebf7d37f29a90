package dev.bss.train.cli;

import dev.bss.interop.ModelFiles;
import dev.bss.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resolves a {@code --config} argument to a {@link ModelConfig}: {@code seed} (the notebook's network), {@code tiny}
 * (the small test network of {@code keras-reference/tiny.json}) or the path of a JSON file with the keys of
 * {@code tiny.json} (absent keys take the seed's values), or a checkpoint's {@code model.json}. Every command that
 * takes {@code --config} resolves it here, so it means the same everywhere.
 */
public final class ConfigOption {

  /** Help text for commands that take {@code --config}. */
  public static final String DESCRIPTION =
      "Network config: seed (the notebook's, default), tiny, or a JSON file with the keys of tiny.json.";

  private ConfigOption() {}

  /**
   * The config named by {@code value}.
   *
   * @throws Cli.UserException naming the argument or file when it is neither a known name nor a valid config file
   */
  public static ModelConfig resolve(String value) {
    if (value == null || value.isBlank() || value.equals("seed")) {
      return ModelConfig.seed();
    }
    if (value.equals("tiny")) {
      return ModelConfig.tiny();
    }
    Path file = Path.of(value);
    if (!Files.isRegularFile(file)) {
      throw new Cli.UserException("--config: expected seed, tiny or a JSON config file, found '" + value
          + "' (" + (Files.isDirectory(file) ? "a directory" : "no such file") + ")");
    }
    try {
      return ModelFiles.readConfigJson(file);
    } catch (IllegalArgumentException e) {
      String msg = e.getMessage();
      for (String prefix : new String[] {"model config " + file + ": ", file + ": "}) {
        if (msg.startsWith(prefix)) {
          msg = msg.substring(prefix.length());
        }
      }
      throw new Cli.UserException("--config " + file + ": " + msg, e);
    }
  }
}
