package dev.bss.train.serve;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads dense float tensors from JSON nested lists straight into a float buffer, without a JSON tree (a tree costs
 * about 85 bytes a number: a 16 MiB request would take 680 MB; this takes 4 bytes a number).
 *
 * <p>Shapes and errors follow TF Serving's {@code json_tensor.cc}: the rank is the depth of the first scalar, every
 * list at a level must have the size of the first list at that level, and every scalar must be at the rank's level.
 * Scalars must be finite numbers within float32's range.
 */
final class StreamingTensors {

  private StreamingTensors() {}

  /** A growing float buffer. */
  static final class FloatBuffer {
    private float[] values = new float[1024];
    private int size;

    void add(float v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, values.length * 2);
      }
      values[size++] = v;
    }

    int size() {
      return size;
    }

    float[] toArray() {
      return size == values.length ? values : Arrays.copyOf(values, size);
    }
  }

  /** Reads the next JSON value as a tensor, appending its values to {@code out}; returns its shape. */
  static long[] read(JsonReader reader, FloatBuffer out) throws IOException {
    Walk w = new Walk(reader, out);
    w.value(0);
    int rank = w.rank < 0 ? 0 : w.rank;
    long[] shape = new long[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = w.sizes.get(i);
    }
    return shape;
  }

  private static final class Walk {
    final JsonReader reader;
    final FloatBuffer out;
    final List<Long> sizes = new ArrayList<>();
    int rank = -1;

    Walk(JsonReader reader, FloatBuffer out) {
      this.reader = reader;
      this.out = out;
    }

    void value(int level) throws IOException {
      JsonToken token = reader.peek();
      if (token == JsonToken.BEGIN_ARRAY) {
        if (rank >= 0 && level >= rank) {
          throw ServeError.badRequest("Encountered list at unexpected level: " + level + " expected < " + rank);
        }
        reader.beginArray();
        long count = 0;
        while (reader.hasNext()) {
          value(level + 1);
          count++;
        }
        reader.endArray();
        if (rank < 0) {
          rank = level + 1; // an empty list first: its level ends the shape
        }
        while (sizes.size() <= level) {
          sizes.add(-1L);
        }
        if (sizes.get(level) < 0) {
          sizes.set(level, count);
        } else if (sizes.get(level) != count) {
          throw ServeError.badRequest("Encountered list at unexpected size: " + count + " at level: " + level
              + " expected size: " + sizes.get(level));
        }
        return;
      }
      if (rank < 0) {
        rank = level;
      }
      if (token == JsonToken.NUMBER) {
        String text = reader.nextString();
        if (level != rank) {
          throw ServeError.badRequest("JSON Value: " + text + " found at incorrect level: " + (level + 1)
              + " in the JSON DOM. Expected at level: " + rank);
        }
        double d = Double.parseDouble(text);
        if (!Double.isFinite(d)) {
          throw ServeError.badRequest("JSON Value: " + text + " is not a finite number (bss serve refuses NaN and "
              + "Infinity)");
        }
        if (d > Float.MAX_VALUE || d < -Float.MAX_VALUE) {
          throw ServeError.badRequest("Cannot convert JSON value: " + text + " to float without loss of precision.");
        }
        out.add((float) d);
        return;
      }
      JsonElement e = JsonParser.parseReader(reader);
      String shown = PredictJson.shown(e);
      if (level != rank) {
        throw ServeError.badRequest("JSON Value: " + shown + " found at incorrect level: " + (level + 1)
            + " in the JSON DOM. Expected at level: " + rank);
      }
      throw ServeError.badRequest("JSON Value: " + shown + " Type: " + PredictJson.typeName(e) + " is not of "
          + "expected type: float");
    }
  }
}
