package dev.bss.train.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed reads of one JSON object of a file, each failing with one line that names the file and the key's full path:
 * {@code epoch-0002/state.json: 'callbacks.early_stopping.wait' expected an integer, found "x"}.
 *
 * @param object the object read
 * @param file the file named in messages
 * @param prefix the object's path in the file, e.g. {@code callbacks.early_stopping.} (empty at the top)
 */
record JsonFields(JsonObject object, Path file, String prefix) {

  /** The object {@code text} holds. */
  static JsonFields parse(String text, Path file) {
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (JsonParseException e) {
      // Gson appends a troubleshooting link on a second line; the message stays one line.
      String why = e.getMessage() == null ? "unreadable" : e.getMessage().lines().findFirst().orElse("unreadable");
      throw new IllegalArgumentException(file + ": expected a JSON object, found invalid JSON (" + why + ")");
    }
    if (!root.isJsonObject()) {
      throw new IllegalArgumentException(file + ": expected a JSON object, found "
          + (root.isJsonNull() ? "an empty file" : abbreviate(root)));
    }
    return new JsonFields(root.getAsJsonObject(), file, "");
  }

  boolean has(String key) {
    return object.has(key) && !object.get(key).isJsonNull();
  }

  JsonFields object(String key) {
    JsonElement e = require(key, "an object");
    if (!e.isJsonObject()) {
      throw wrong(key, "an object", e);
    }
    return new JsonFields(e.getAsJsonObject(), file, prefix + key + ".");
  }

  /** The objects of an array, named {@code key[0]}, {@code key[1]}, ... in messages. */
  List<JsonFields> objects(String key) {
    JsonElement e = require(key, "an array of objects");
    if (!e.isJsonArray()) {
      throw wrong(key, "an array of objects", e);
    }
    JsonArray array = e.getAsJsonArray();
    List<JsonFields> list = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      if (!array.get(i).isJsonObject()) {
        throw wrong(key + "[" + i + "]", "an object", array.get(i));
      }
      list.add(new JsonFields(array.get(i).getAsJsonObject(), file, prefix + key + "[" + i + "]."));
    }
    return list;
  }

  List<String> keys() {
    return new ArrayList<>(object.keySet());
  }

  String string(String key) {
    JsonElement e = require(key, "a string");
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw wrong(key, "a string", e);
    }
    return e.getAsString();
  }

  boolean bool(String key) {
    JsonElement e = require(key, "true or false");
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
      throw wrong(key, "true or false", e);
    }
    return e.getAsBoolean();
  }

  int integer(String key) {
    try {
      return exact(key, "an integer").intValueExact();
    } catch (ArithmeticException e) {
      throw wrong(key, "an integer", object.get(key));
    }
  }

  long longInteger(String key) {
    try {
      return exact(key, "an integer").longValueExact();
    } catch (ArithmeticException e) {
      throw wrong(key, "an integer", object.get(key));
    }
  }

  /** A double written as a number or as Java's exact text ({@code "Infinity"}: JSON has no infinity). */
  double number(String key) {
    JsonElement e = require(key, "a number");
    try {
      if (e.isJsonPrimitive() && (e.getAsJsonPrimitive().isNumber() || e.getAsJsonPrimitive().isString())) {
        return Double.parseDouble(e.getAsString());
      }
    } catch (NumberFormatException ignored) {
      // named below
    }
    throw wrong(key, "a number", e);
  }

  /** A float32 written as a number or as Java's exact text, parsed as a float (not through a double). */
  float float32(String key) {
    JsonElement e = require(key, "a float32 number");
    try {
      if (e.isJsonPrimitive() && (e.getAsJsonPrimitive().isNumber() || e.getAsJsonPrimitive().isString())) {
        float value = Float.parseFloat(e.getAsString());
        if (Float.isFinite(value) || !Double.isFinite(Double.parseDouble(e.getAsString()))) {
          return value;
        }
      }
    } catch (NumberFormatException ignored) {
      // named below
    }
    throw wrong(key, "a float32 number", e);
  }

  /** An object of strings, or an empty map when absent. */
  Map<String, String> stringsOrEmpty(String key) {
    Map<String, String> map = new LinkedHashMap<>();
    if (has(key)) {
      JsonFields fields = object(key);
      for (String k : fields.keys()) {
        map.put(k, fields.string(k));
      }
    }
    return map;
  }

  /** An object of numbers (written as numbers or exact text). */
  Map<String, Double> numbers() {
    Map<String, Double> map = new LinkedHashMap<>();
    for (String k : keys()) {
      map.put(k, number(k));
    }
    return map;
  }

  /** An object of any JSON values, as Java values (integers as Integer or Long), or an empty map when absent. */
  Map<String, Object> valuesOrEmpty(String key) {
    return has(key) ? toJava(object(key).object) : new LinkedHashMap<>();
  }

  IllegalArgumentException error(String key, String expected, String found) {
    return new IllegalArgumentException(file + ": '" + prefix + key + "' expected " + expected + ", found " + found);
  }

  private JsonElement require(String key, String expected) {
    if (!has(key)) {
      throw error(key, expected, "none");
    }
    return object.get(key);
  }

  /** A number, or a string holding one (long seeds are written as text: many JSON readers hold only doubles). */
  private BigDecimal exact(String key, String expected) {
    JsonElement e = require(key, expected);
    if (e.isJsonPrimitive() && !e.getAsJsonPrimitive().isBoolean()) {
      try {
        return e.getAsBigDecimal();
      } catch (NumberFormatException ignored) {
        // named below
      }
    }
    throw wrong(key, expected, e);
  }

  private IllegalArgumentException wrong(String key, String expected, JsonElement found) {
    return error(key, expected, abbreviate(found));
  }

  private static String abbreviate(JsonElement e) {
    String text = e.toString();
    return text.length() <= 60 ? text : text.substring(0, 57) + "...";
  }

  private static Map<String, Object> toJava(JsonObject object) {
    Map<String, Object> map = new LinkedHashMap<>();
    object.entrySet().forEach(e -> map.put(e.getKey(), toJava(e.getValue())));
    return map;
  }

  private static Object toJava(JsonElement e) {
    if (e.isJsonNull()) {
      return null;
    }
    if (e.isJsonObject()) {
      return toJava(e.getAsJsonObject());
    }
    if (e.isJsonArray()) {
      List<Object> list = new ArrayList<>();
      e.getAsJsonArray().forEach(item -> list.add(toJava(item)));
      return list;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    if (p.isString()) {
      return p.getAsString();
    }
    String text = p.getAsString();
    try {
      long value = Long.parseLong(text);
      return value == (int) value ? (Object) (int) value : (Object) value;
    } catch (NumberFormatException notAnInteger) {
      return p.getAsDouble();
    }
  }
}
