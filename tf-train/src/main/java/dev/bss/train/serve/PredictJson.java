package dev.bss.train.serve;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.stream.MalformedJsonException;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * TensorFlow Serving's JSON predict format: the row format ({@code {"instances": [...]}} answered with
 * {@code {"predictions": [...]}}) and the columnar format ({@code {"inputs": ...}} answered with
 * {@code {"outputs": ...}}), with {@code signature_name}, and bad requests answered with TF Serving's messages
 * (its {@code json_tensor.cc}).
 *
 * <p>Differences, on purpose: only float32 inputs and outputs; NaN and Infinity in a request are refused (TF Serving
 * accepts them); every input's first dimension is the batch and must agree across inputs.
 */
public final class PredictJson {

  private PredictJson() {}

  /** The request format, which decides the response's. */
  public enum Format { ROW, COLUMNAR }

  /** A parsed predict request: signature key, inputs by key (each batched on its first dimension), format. */
  public record Request(String signature, Map<String, FloatTensor> inputs, Format format) {

    /** The batch size (first dimension, shared by every input). */
    public int rows() {
      return inputs.values().iterator().next().rows();
    }
  }

  private static final Pattern NON_FINITE = Pattern.compile("(?<![\\w\"])-?(NaN|Infinity)(?![\\w\"])");
  private static final int SHOWN = 200;

  /** Values of one input, accumulated over the instances, with the shape of one instance. */
  private static final class Accumulated {
    final StreamingTensors.FloatBuffer values = new StreamingTensors.FloatBuffer();
    long[] shape;
    int count;
  }

  /** What the body holds, before the signature is known. */
  private static final class Body {
    String signature;
    boolean hasSignature;
    Format format;
    /** Row format: instance count, whether instances are objects, the first instance's keys. */
    int instances;
    boolean objects;
    List<String> firstKeys = new ArrayList<>();
    /** Inputs by key; the key null stands for an unnamed input (a plain list or value). */
    final Map<String, Accumulated> inputs = new LinkedHashMap<>();
  }

  /**
   * Parses and validates a predict request body against the model's signatures, streaming the tensors into float
   * arrays (no JSON tree is built).
   */
  public static Request parse(String body, ServedModel model) {
    if (body.isEmpty()) {
      throw ServeError.badRequest("JSON Parse error: The document is empty");
    }
    Body b = new Body();
    try {
      JsonReader reader = new JsonReader(new StringReader(body));
      reader.setStrictness(Strictness.STRICT);
      if (reader.peek() != JsonToken.BEGIN_OBJECT) {
        JsonElement e = JsonParser.parseReader(reader);
        throw ServeError.badRequest("JSON Value: " + shown(e) + " Is not object");
      }
      reader.beginObject();
      while (reader.hasNext()) {
        String key = reader.nextName();
        switch (key) {
          case "signature_name" -> {
            if (reader.peek() != JsonToken.STRING) {
              throw ServeError.badRequest("JSON Value: " + shown(body) + " not formatted correctly. "
                  + "'signature_name' key must be a string value.");
            }
            b.signature = reader.nextString();
            b.hasSignature = true;
          }
          case "instances", "inputs" -> {
            if (b.format != null) {
              throw ServeError.badRequest("JSON Value: " + shown(body) + " Not formatted correctly expecting only "
                  + "one of 'inputs' or 'instances' keys to exist ");
            }
            if (key.equals("instances")) {
              b.format = Format.ROW;
              readInstances(reader, b, body);
            } else {
              b.format = Format.COLUMNAR;
              readInputs(reader, b);
            }
          }
          default -> reader.skipValue();
        }
      }
      reader.endObject();
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new MalformedJsonException("The document root must not be followed by other values");
      }
    } catch (IOException | IllegalStateException | NumberFormatException | JsonParseException e) {
      throw parseError(body, e);
    }
    String signature = b.hasSignature && !b.signature.isEmpty() ? b.signature : model.defaultSignature();
    ServedModel.SignatureSpec spec = model.signatures().get(signature);
    if (spec == null) {
      throw ServeError.badRequest("Serving signature name: \"" + signature + "\" not found in signature def");
    }
    if (spec.inputs().isEmpty()) {
      throw ServeError.badRequest("Failed to get input map for signature: " + signature);
    }
    if (b.format == null) {
      throw ServeError.badRequest("Missing 'inputs' or 'instances' key");
    }
    if (b.format == Format.ROW && b.instances == 0) {
      throw ServeError.badRequest("JSON Value: " + shown(body) + " No values in 'instances' array");
    }
    Map<String, FloatTensor> tensors = b.format == Format.ROW ? rowTensors(b, spec) : columnarTensors(b, spec);
    check(tensors, spec);
    return new Request(signature, tensors, b.format);
  }

  private static ServeError parseError(String body, Exception e) {
    if (NON_FINITE.matcher(body).find()) {
      return ServeError.badRequest("JSON Parse error: NaN and Infinity are not accepted (bss serve takes finite "
          + "numbers only)");
    }
    String m = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage()
        : String.valueOf(e.getMessage());
    // Gson names its own setting and a troubleshooting page in its messages; the client needs where the error is.
    m = m.replaceAll("\\s*Use JsonReader.setStrictness\\(Strictness.LENIENT\\) to accept malformed JSON", "")
        .replaceAll("\\s*See https?://\\S+", "");
    if (e instanceof java.io.EOFException) {
      m = "The document ended early (" + m + ")";
    }
    return ServeError.badRequest("JSON Parse error: " + m.lines().findFirst().orElse(m));
  }

  private static void readInstances(JsonReader reader, Body b, String body) throws IOException {
    if (reader.peek() != JsonToken.BEGIN_ARRAY) {
      throw ServeError.badRequest("JSON Value: " + shown(body) + " Excepting 'instances' to be an list/array");
    }
    reader.beginArray();
    int i = 0;
    while (reader.hasNext()) {
      boolean object = reader.peek() == JsonToken.BEGIN_OBJECT;
      if (i == 0) {
        b.objects = object;
      } else if (b.objects && !object) {
        throw ServeError.badRequest("Expecting object but got list at item " + i + " of input list");
      } else if (!b.objects && object) {
        throw ServeError.badRequest("Expecting value/list but got object at item " + i + " of input list");
      }
      if (object) {
        reader.beginObject();
        List<String> keys = new ArrayList<>();
        while (reader.hasNext()) {
          String name = reader.nextName();
          if (keys.contains(name)) {
            throw ServeError.badRequest("Failed to process element: " + i + " of 'instances' list. Error: "
                + "INVALID_ARGUMENT: key " + name + " appears twice");
          }
          keys.add(name);
          try {
            addInstance(reader, b.inputs.computeIfAbsent(name, k -> new Accumulated()));
          } catch (ServeError e) {
            throw ServeError.badRequest("Failed to process element: " + i + " key: " + name
                + " of 'instances' list. Error: INVALID_ARGUMENT: " + e.getMessage());
          }
        }
        reader.endObject();
        if (i == 0) {
          b.firstKeys = keys;
        } else if (!new java.util.TreeSet<>(keys).equals(new java.util.TreeSet<>(b.firstKeys))) {
          throw ServeError.badRequest("Failed to process element: " + i + " of 'instances' list. JSON object "
              + "keys " + keys + " must be equal to: " + String.join(",", new java.util.TreeSet<>(b.firstKeys)));
        }
      } else {
        try {
          addInstance(reader, b.inputs.computeIfAbsent(null, k -> new Accumulated()));
        } catch (ServeError e) {
          throw ServeError.badRequest("Failed to process element: " + i + " of 'instances' list. Error: "
              + "INVALID_ARGUMENT: " + e.getMessage());
        }
      }
      i++;
    }
    reader.endArray();
    b.instances = i; // none is refused once the whole body is read, as TF Serving checks both keys first
  }

  private static void addInstance(JsonReader reader, Accumulated acc) throws IOException {
    int before = acc.values.size();
    long[] shape = StreamingTensors.read(reader, acc.values);
    int size = acc.values.size() - before;
    if (acc.shape == null) {
      acc.shape = shape;
    } else if (product(acc.shape) != size) {
      throw ServeError.badRequest("Expecting tensor size: " + product(acc.shape) + " but got: " + size);
    } else if (!Arrays.equals(acc.shape, shape)) {
      throw ServeError.badRequest("Expecting shape " + shapeString(acc.shape) + " but got: " + shapeString(shape));
    }
    acc.count++;
  }

  private static void readInputs(JsonReader reader, Body b) throws IOException {
    if (reader.peek() != JsonToken.BEGIN_OBJECT) {
      Accumulated acc = new Accumulated();
      acc.shape = StreamingTensors.read(reader, acc.values);
      b.inputs.put(null, acc);
      return;
    }
    reader.beginObject();
    while (reader.hasNext()) {
      String name = reader.nextName();
      Accumulated acc = new Accumulated();
      acc.shape = StreamingTensors.read(reader, acc.values);
      b.inputs.put(name, acc);
    }
    reader.endObject();
  }

  private static Map<String, FloatTensor> rowTensors(Body b, ServedModel.SignatureSpec spec) {
    Set<String> names = new TreeSet<>();
    spec.inputs().forEach(t -> names.add(t.key()));
    if (!b.objects && spec.inputs().size() > 1) {
      throw ServeError.badRequest("instances is a plain list, but expecting list of objects as multiple input "
          + "tensors required as per tensorinfo_map");
    }
    if (b.objects) {
      for (String k : b.firstKeys) {
        if (!names.contains(k)) {
          throw ServeError.badRequest("Failed to process element: 0 key: " + k + " of 'instances' list. Error: "
              + "INVALID_ARGUMENT: JSON object: does not have named input: " + k);
        }
      }
      if (!new TreeSet<>(b.firstKeys).equals(names)) {
        throw ServeError.badRequest("Failed to process element: 0 of 'instances' list. JSON object keys "
            + b.firstKeys + " must be equal to: " + String.join(",", names));
      }
    }
    Map<String, FloatTensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Accumulated> e : b.inputs.entrySet()) {
      String key = e.getKey() == null ? spec.inputs().get(0).key() : e.getKey();
      requireFloat(spec.input(key));
      long[] shape = new long[e.getValue().shape.length + 1];
      shape[0] = b.instances;
      System.arraycopy(e.getValue().shape, 0, shape, 1, e.getValue().shape.length);
      tensors.put(key, new FloatTensor(shape, e.getValue().values.toArray()));
    }
    return tensors;
  }

  private static Map<String, FloatTensor> columnarTensors(Body b, ServedModel.SignatureSpec spec) {
    Map<String, FloatTensor> tensors = new LinkedHashMap<>();
    if (b.inputs.containsKey(null)) {
      if (spec.inputs().size() > 1) {
        throw ServeError.badRequest("inputs is a plain value/list, but expecting an object as multiple input tensors "
            + "required as per tensorinfo_map");
      }
      Accumulated acc = b.inputs.get(null);
      requireFloat(spec.inputs().get(0));
      tensors.put(spec.inputs().get(0).key(), new FloatTensor(acc.shape, acc.values.toArray()));
      return tensors;
    }
    for (ServedModel.TensorSpec t : spec.inputs()) {
      Accumulated acc = b.inputs.get(t.key());
      if (acc == null) {
        throw ServeError.badRequest("Missing named input: " + t.key() + " in 'inputs' object.");
      }
      requireFloat(t);
      tensors.put(t.key(), new FloatTensor(acc.shape, acc.values.toArray()));
    }
    return tensors;
  }

  private static void requireFloat(ServedModel.TensorSpec t) {
    if (!"DT_FLOAT".equals(t.dtype())) {
      throw ServeError.badRequest("input '" + t.key() + "' is " + t.dtype() + ": bss serve takes DT_FLOAT inputs "
          + "only");
    }
  }

  /** A JSON value for an error message, cut at 200 characters. */
  static String shown(JsonElement e) {
    return shown(e.toString());
  }

  private static String shown(String s) {
    return s.length() <= SHOWN ? s : s.substring(0, SHOWN) + "...";
  }

  /** TF Serving's name of a JSON value's type. */
  static String typeName(JsonElement v) {
    if (v.isJsonNull()) {
      return "Null";
    }
    if (v.isJsonObject()) {
      return "Object";
    }
    if (v.isJsonArray()) {
      return "Array";
    }
    JsonPrimitive p = v.getAsJsonPrimitive();
    return p.isBoolean() ? (p.getAsBoolean() ? "True" : "False") : p.isString() ? "String" : "Number";
  }

  /** Checks the inputs against the signature's declared shapes and that they share a batch dimension. */
  private static void check(Map<String, FloatTensor> tensors, ServedModel.SignatureSpec spec) {
    long batch = -1;
    for (Map.Entry<String, FloatTensor> e : tensors.entrySet()) {
      long[] shape = e.getValue().shape();
      long[] declared = spec.input(e.getKey()).shape();
      boolean fits = declared == null || declared.length == shape.length;
      for (int i = 0; fits && declared != null && i < shape.length; i++) {
        fits = declared[i] < 0 || declared[i] == shape[i];
      }
      if (!fits) {
        throw ServeError.badRequest("input '" + e.getKey() + "': the signature expects shape "
            + shapeString(declared) + " (-1: any), the request has " + shapeString(shape));
      }
      if (shape.length == 0 || shape[0] == 0) {
        throw ServeError.badRequest("input '" + e.getKey() + "': expected a batch of at least one, the request has "
            + "shape " + shapeString(shape));
      }
      if (batch >= 0 && shape[0] != batch) {
        throw ServeError.badRequest("inputs have different batch sizes (" + batch + " and " + shape[0] + " for '"
            + e.getKey() + "')");
      }
      batch = shape[0];
    }
  }

  static String shapeString(long[] shape) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i == 0 ? "" : ",").append(shape[i]);
    }
    return sb.append(']').toString();
  }

  private static long product(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** The response body: predictions per row (row format) or outputs as whole tensors (columnar), by output key. */
  public static String response(Map<String, FloatTensor> outputs, Format format) {
    StringBuilder sb = new StringBuilder(64 + 12 * outputs.values().stream().mapToInt(t -> t.values().length).sum());
    List<String> keys = new ArrayList<>(new TreeSet<>(outputs.keySet()));
    if (format == Format.COLUMNAR) {
      sb.append("{\"outputs\": ");
      if (keys.size() == 1) {
        value(sb, outputs.get(keys.get(0)), 0, 0);
      } else {
        sb.append('{');
        for (int k = 0; k < keys.size(); k++) {
          sb.append(k == 0 ? "" : ", ").append(string(keys.get(k))).append(": ");
          value(sb, outputs.get(keys.get(k)), 0, 0);
        }
        sb.append('}');
      }
      return sb.append("}").toString();
    }
    int rows = -1;
    for (FloatTensor t : outputs.values()) {
      if (t.shape().length == 0 || (rows >= 0 && t.shape()[0] != rows)) {
        throw new ServeError(400, "Failed to process output tensors: the row format needs every output batched "
            + "with the same first dimension; use the columnar format ('inputs')");
      }
      rows = (int) t.shape()[0];
    }
    sb.append("{\"predictions\": [");
    for (int r = 0; r < rows; r++) {
      sb.append(r == 0 ? "" : ", ");
      if (keys.size() == 1) {
        FloatTensor t = outputs.get(keys.get(0));
        value(sb, t, 1, r * (t.values().length / rows));
      } else {
        sb.append('{');
        for (int k = 0; k < keys.size(); k++) {
          FloatTensor t = outputs.get(keys.get(k));
          sb.append(k == 0 ? "" : ", ").append(string(keys.get(k))).append(": ");
          value(sb, t, 1, r * (t.values().length / rows));
        }
        sb.append('}');
      }
    }
    return sb.append("]}").toString();
  }

  /** Writes the sub-tensor from dimension {@code level} starting at flat {@code offset} as nested lists. */
  private static int value(StringBuilder sb, FloatTensor t, int level, int offset) {
    if (level == t.shape().length) {
      number(sb, t.values()[offset]);
      return offset + 1;
    }
    sb.append('[');
    int at = offset;
    for (long i = 0; i < t.shape()[level]; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      at = value(sb, t, level + 1, at);
    }
    sb.append(']');
    return at;
  }

  private static void number(StringBuilder sb, float v) {
    if (Float.isNaN(v)) {
      sb.append("NaN");
    } else if (Float.isInfinite(v)) {
      sb.append(v > 0 ? "Infinity" : "-Infinity");
    } else {
      sb.append(Float.toString(v));
    }
  }

  /** A JSON string literal. */
  static String string(String s) {
    return new JsonPrimitive(s).toString();
  }

  /** {@code {"error": "<message>"}}, as TF Serving writes its errors. */
  public static String error(String message) {
    JsonObject o = new JsonObject();
    o.addProperty("error", message);
    return o.toString();
  }
}
