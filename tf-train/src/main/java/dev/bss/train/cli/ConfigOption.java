package dev.bss.train.cli;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import dev.bss.model.ModelConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Resolves a {@code --config} argument to a {@link ModelConfig}: {@code seed} (the notebook's network), {@code tiny}
 * (the small test network of {@code keras-reference/tiny.json}) or the path of a JSON file with the keys of
 * {@code tiny.json} (absent keys take the seed's values).
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
          + "' (no such file)");
    }
    Map<?, ?> map;
    try (Reader reader = Files.newBufferedReader(file)) {
      map = new Gson().fromJson(reader, Map.class);
    } catch (IOException | JsonParseException e) {
      throw new Cli.UserException("--config " + file + ": not a readable JSON object (" + e.getMessage() + ")");
    }
    if (map == null) {
      throw new Cli.UserException("--config " + file + ": expected a JSON object, found an empty file");
    }
    try {
      @SuppressWarnings("unchecked")
      Map<String, ?> typed = (Map<String, ?>) map;
      return ModelConfig.fromMap(typed);
    } catch (IllegalArgumentException e) {
      throw new Cli.UserException("--config " + file + ": " + e.getMessage());
    }
  }
}
