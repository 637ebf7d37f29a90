package dev.bss.interop.keras;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small conversions between Gson trees and plain Java values (maps, lists, numbers, strings). */
public final class KerasJson {

  private KerasJson() {}

  /** A JSON object as an ordered map of plain Java values (numbers as Double or Long). */
  public static Map<String, Object> toJava(JsonObject object) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : object.entrySet()) {
      m.put(e.getKey(), toJavaValue(e.getValue()));
    }
    return m;
  }

  /** One JSON value as a plain Java value. */
  public static Object toJavaValue(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (e.isJsonObject()) {
      return toJava(e.getAsJsonObject());
    }
    if (e.isJsonArray()) {
      List<Object> list = new ArrayList<>();
      for (JsonElement x : e.getAsJsonArray()) {
        list.add(toJavaValue(x));
      }
      return list;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    if (p.isNumber()) {
      double d = p.getAsDouble();
      String text = p.getAsString();
      boolean integral = !text.contains(".") && !text.contains("e") && !text.contains("E");
      return integral && Math.abs(d) < 9e15 ? (Object) p.getAsLong() : (Object) d;
    }
    return p.getAsString();
  }

  /** A plain Java value (map, list, array, number, string, boolean, null) as a JSON tree. */
  public static JsonElement toJson(Object value) {
    if (value == null) {
      return com.google.gson.JsonNull.INSTANCE;
    }
    if (value instanceof JsonElement e) {
      return e.deepCopy();
    }
    if (value instanceof Map<?, ?> map) {
      JsonObject o = new JsonObject();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        o.add(String.valueOf(e.getKey()), toJson(e.getValue()));
      }
      return o;
    }
    if (value instanceof Iterable<?> it) {
      JsonArray a = new JsonArray();
      for (Object x : it) {
        a.add(toJson(x));
      }
      return a;
    }
    if (value instanceof long[] longs) {
      JsonArray a = new JsonArray();
      for (long x : longs) {
        a.add(x);
      }
      return a;
    }
    if (value instanceof int[] ints) {
      JsonArray a = new JsonArray();
      for (int x : ints) {
        a.add(x);
      }
      return a;
    }
    if (value instanceof Boolean b) {
      return new JsonPrimitive(b);
    }
    if (value instanceof Number n) {
      return new JsonPrimitive(n);
    }
    return new JsonPrimitive(String.valueOf(value));
  }
}
