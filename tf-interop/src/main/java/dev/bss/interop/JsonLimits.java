package dev.bss.interop;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Parses the JSON files bss reads (model configs, {@code .keras} {@code config.json}, provenance) with bounds: a size
 * cap checked before reading and a nesting cap, so that a small hostile file cannot cost gigabytes or the stack.
 */
public final class JsonLimits {

  /** Largest JSON config accepted: 16 MiB (the reference's config.json, position embedding included, is ~0.2 MB). */
  public static final long MAX_CONFIG_BYTES = 16L << 20;

  /** Deepest nesting accepted (a Keras config nests about 10 levels). */
  public static final int MAX_NESTING = 64;

  private JsonLimits() {}

  /**
   * A JSON object from a file.
   *
   * @param where names the file in messages, e.g. {@code "model config model.json"}
   * @throws IllegalArgumentException naming {@code where}: missing, a directory, too large, too deep, not JSON, not
   *     an object
   */
  public static JsonObject readObject(Path file, String where) {
    String text;
    try {
      if (Files.isDirectory(file)) {
        throw new IllegalArgumentException(where + ": is a directory, expected a JSON file");
      }
      long size = Files.size(file);
      if (size > MAX_CONFIG_BYTES) {
        throw new IllegalArgumentException(where + ": " + size + " bytes, more than the " + MAX_CONFIG_BYTES
            + " accepted for a JSON config");
      }
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(where + ": no such file");
    } catch (IOException e) {
      throw new IllegalArgumentException(where + ": cannot read (" + e.getMessage() + ")", e);
    }
    return parseObject(text, where);
  }

  /** A JSON object from text already read within {@link #MAX_CONFIG_BYTES}; see {@link #readObject}. */
  public static JsonObject parseObject(String text, String where) {
    JsonElement root;
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setStrictness(Strictness.LEGACY_STRICT);
      reader.setNestingLimit(MAX_NESTING);
      root = JsonParser.parseReader(reader);
    } catch (JsonParseException | StackOverflowError e) {
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      why = why.replaceFirst("^[a-z.]+\\.[A-Za-z]+Exception: ", "").replaceFirst(" path \\$.*", "")
          .replaceFirst("\nSee https://\\S+", "");
      throw new IllegalArgumentException(where + ": not valid JSON (" + why.lines().findFirst().orElse(why) + ")");
    }
    if (!root.isJsonObject()) {
      throw new IllegalArgumentException(where + ": expected a JSON object, found "
          + (root.isJsonNull() ? "an empty file" : root.isJsonArray() ? "an array" : "a value"));
    }
    return root.getAsJsonObject();
  }
}
