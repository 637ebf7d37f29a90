package dev.bss.train.callbacks;

import java.util.Map;

/** JSON-safe encoding of callback state: doubles as exact strings (JSON has no infinity), ints from any number. */
final class CallbackState {

  private CallbackState() {}

  /** Exact round trip, including infinity: Double.toString is shortest-exact. */
  static String encode(double value) {
    return Double.toString(value);
  }

  static double doubleOf(Map<String, ?> state, String key) {
    Object v = state.get(key);
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof String s) {
      try {
        return Double.parseDouble(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("callback state: '" + key + "' must be a number, found '" + s + "'");
      }
    }
    throw new IllegalArgumentException("callback state: '" + key + "' missing or not a number, found " + v);
  }

  static int intOf(Map<String, ?> state, String key) {
    Object v = state.get(key);
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw new IllegalArgumentException("callback state: '" + key + "' must be an integer, found " + v);
    }
    return n.intValue();
  }
}
