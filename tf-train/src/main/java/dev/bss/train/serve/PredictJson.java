package dev.bss.train.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
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

  /** Parses and validates a predict request body against the model's signatures. */
  public static Request parse(String body, ServedModel model) {
    JsonObject doc = parseObject(body);
    String signature = model.defaultSignature();
    JsonElement sig = doc.get("signature_name");
    if (sig != null) {
      if (!sig.isJsonPrimitive() || !sig.getAsJsonPrimitive().isString()) {
        throw ServeError.badRequest("JSON Value: " + shown(doc) + " not formatted correctly. 'signature_name' key "
            + "must be a string value.");
      }
      if (!sig.getAsString().isEmpty()) {
        signature = sig.getAsString();
      }
    }
    ServedModel.SignatureSpec spec = model.signatures().get(signature);
    if (spec == null) {
      throw ServeError.badRequest("Serving signature name: \"" + signature + "\" not found in signature def");
    }
    if (spec.inputs().isEmpty()) {
      throw ServeError.badRequest("Failed to get input map for signature: " + signature);
    }
    JsonElement instances = doc.get("instances");
    JsonElement inputs = doc.get("inputs");
    Map<String, FloatTensor> tensors;
    Format format;
    if (instances != null && inputs != null) {
      throw ServeError.badRequest("JSON Value: " + shown(doc) + " Not formatted correctly expecting only one of "
          + "'inputs' or 'instances' keys to exist ");
    } else if (instances != null) {
      if (!instances.isJsonArray()) {
        throw ServeError.badRequest("JSON Value: " + shown(doc) + " Excepting 'instances' to be an list/array");
      }
      if (instances.getAsJsonArray().isEmpty()) {
        throw ServeError.badRequest("JSON Value: " + shown(doc) + " No values in 'instances' array");
      }
      tensors = fromInstances(instances.getAsJsonArray(), spec);
      format = Format.ROW;
    } else if (inputs != null) {
      tensors = fromInputs(inputs, spec);
      format = Format.COLUMNAR;
    } else {
      throw ServeError.badRequest("Missing 'inputs' or 'instances' key");
    }
    check(tensors, spec);
    return new Request(signature, tensors, format);
  }

  /** Parses a JSON object strictly, with TF Serving's messages for an empty body or a parse error. */
  static JsonObject parseObject(String body) {
    if (body.isEmpty()) {
      throw ServeError.badRequest("JSON Parse error: The document is empty");
    }
    JsonElement doc;
    try {
      JsonReader reader = new JsonReader(new StringReader(body));
      reader.setStrictness(Strictness.STRICT);
      doc = JsonParser.parseReader(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new JsonParseException("The document root must not be followed by other values at " + reader);
      }
    } catch (JsonParseException | IOException | IllegalStateException e) {
      if (NON_FINITE.matcher(body).find()) {
        throw ServeError.badRequest("JSON Parse error: NaN and Infinity are not accepted (bss serve takes finite "
            + "numbers only)");
      }
      String m = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage()
          : String.valueOf(e.getMessage());
      // Gson names its own setting in the message; the client only needs where the error is.
      m = m.replaceAll("\\s*Use JsonReader.setStrictness\\(Strictness.LENIENT\\) to accept malformed JSON", "")
          .replaceAll("\\s*See https?://\\S+", "");
      throw ServeError.badRequest("JSON Parse error: " + m.lines().findFirst().orElse(m));
    }
    if (!doc.isJsonObject()) {
      throw ServeError.badRequest("JSON Value: " + shown(doc) + " Is not object");
    }
    return doc.getAsJsonObject();
  }

  private static String shown(JsonElement e) {
    String s = e.toString();
    return s.length() <= SHOWN ? s : s.substring(0, SHOWN) + "...";
  }

  private static Map<String, FloatTensor> fromInstances(JsonArray list, ServedModel.SignatureSpec spec) {
    if (!isNamedObject(list.get(0)) && spec.inputs().size() > 1) {
      throw ServeError.badRequest("instances is a plain list, but expecting list of objects as multiple input "
          + "tensors required as per tensorinfo_map");
    }
    boolean objects = isNamedObject(list.get(0));
    Set<String> names = new TreeSet<>();
    spec.inputs().forEach(t -> names.add(t.key()));
    Map<String, List<float[]>> rows = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (int i = 0; i < list.size(); i++) {
      JsonElement elem = list.get(i);
      if (objects) {
        if (!isNamedObject(elem)) {
          throw ServeError.badRequest("Expecting object but got list at item " + i + " of input list");
        }
        Set<String> keys = new TreeSet<>();
        for (Map.Entry<String, JsonElement> kv : elem.getAsJsonObject().entrySet()) {
          keys.add(kv.getKey());
          try {
            addItem(kv.getValue(), kv.getKey(), spec, rows, shapes);
          } catch (ServeError e) {
            throw ServeError.badRequest("Failed to process element: " + i + " key: " + kv.getKey()
                + " of 'instances' list. Error: INVALID_ARGUMENT: " + e.getMessage());
          }
        }
        if (!keys.equals(names)) {
          throw ServeError.badRequest("Failed to process element: " + i + " of 'instances' list. JSON object: "
              + shown(elem) + " keys must be equal to: " + String.join(",", names));
        }
      } else {
        if (isNamedObject(elem)) {
          throw ServeError.badRequest("Expecting value/list but got object at item " + i + " of input list");
        }
        try {
          addItem(elem, spec.inputs().get(0).key(), spec, rows, shapes);
        } catch (ServeError e) {
          throw ServeError.badRequest("Failed to process element: " + i + " of 'instances' list. Error: "
              + "INVALID_ARGUMENT: " + e.getMessage());
        }
      }
    }
    Map<String, FloatTensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, List<float[]>> e : rows.entrySet()) {
      long[] row = shapes.get(e.getKey());
      long[] shape = new long[row.length + 1];
      shape[0] = list.size();
      System.arraycopy(row, 0, shape, 1, row.length);
      int per = e.getValue().get(0).length;
      float[] values = new float[list.size() * per];
      for (int r = 0; r < e.getValue().size(); r++) {
        System.arraycopy(e.getValue().get(r), 0, values, r * per, per);
      }
      tensors.put(e.getKey(), new FloatTensor(shape, values));
    }
    return tensors;
  }

  private static boolean isNamedObject(JsonElement e) {
    return e.isJsonObject() && !(e.getAsJsonObject().size() == 1 && e.getAsJsonObject().has("b64"));
  }

  private static void addItem(JsonElement item, String name, ServedModel.SignatureSpec spec,
      Map<String, List<float[]>> rows, Map<String, long[]> shapes) {
    if (spec.input(name) == null) {
      throw ServeError.badRequest("JSON object: does not have named input: " + name);
    }
    long[] shape = denseShape(item);
    float[] values = fill(item, shape, spec.input(name).dtype());
    long[] known = shapes.get(name);
    if (known == null) {
      shapes.put(name, shape);
    } else if (product(known) != values.length) {
      throw ServeError.badRequest("Expecting tensor size: " + product(known) + " but got: " + values.length);
    } else if (!Arrays.equals(known, shape)) {
      throw ServeError.badRequest("Expecting shape " + shapeString(known) + " but got: " + shapeString(shape));
    }
    rows.computeIfAbsent(name, k -> new ArrayList<>()).add(values);
  }

  private static Map<String, FloatTensor> fromInputs(JsonElement val, ServedModel.SignatureSpec spec) {
    Map<String, FloatTensor> tensors = new LinkedHashMap<>();
    if (!isNamedObject(val)) {
      if (spec.inputs().size() > 1) {
        throw ServeError.badRequest("inputs is a plain value/list, but expecting an object as multiple input tensors "
            + "required as per tensorinfo_map");
      }
      ServedModel.TensorSpec t = spec.inputs().get(0);
      long[] shape = denseShape(val);
      tensors.put(t.key(), new FloatTensor(shape, fill(val, shape, t.dtype())));
    } else {
      for (ServedModel.TensorSpec t : spec.inputs()) {
        JsonElement item = val.getAsJsonObject().get(t.key());
        if (item == null) {
          throw ServeError.badRequest("Missing named input: " + t.key() + " in 'inputs' object.");
        }
        long[] shape = denseShape(item);
        tensors.put(t.key(), new FloatTensor(shape, fill(item, shape, t.dtype())));
      }
    }
    return tensors;
  }

  /** The shape a JSON value has, read from the first element at each level (as TF Serving does). */
  private static long[] denseShape(JsonElement val) {
    List<Long> dims = new ArrayList<>();
    JsonElement e = val;
    while (e.isJsonArray()) {
      dims.add((long) e.getAsJsonArray().size());
      if (e.getAsJsonArray().isEmpty()) {
        break;
      }
      e = e.getAsJsonArray().get(0);
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  private static float[] fill(JsonElement val, long[] shape, String dtype) {
    if (!"DT_FLOAT".equals(dtype)) {
      throw ServeError.badRequest("Conversion of JSON Value: " + shown(val) + " to type: " + dtypeName(dtype)
          + " (bss serve takes DT_FLOAT inputs only)");
    }
    long n = product(shape);
    if (n > Integer.MAX_VALUE - 8) {
      throw ServeError.badRequest("JSON Value: tensor of shape " + shapeString(shape) + " is too large");
    }
    float[] out = new float[(int) n];
    int[] count = {0};
    fill(val, 0, shape, out, count);
    return out;
  }

  private static void fill(JsonElement val, int level, long[] shape, float[] out, int[] count) {
    int rank = shape.length;
    if (!val.isJsonArray()) {
      if (level != rank) {
        throw ServeError.badRequest("JSON Value: " + shown(val) + " found at incorrect level: " + (level + 1)
            + " in the JSON DOM. Expected at level: " + rank);
      }
      if (!val.isJsonPrimitive() || !val.getAsJsonPrimitive().isNumber()) {
        throw ServeError.badRequest("JSON Value: " + shown(val) + " Type: " + typeName(val) + " is not of expected "
            + "type: float");
      }
      double d = val.getAsDouble();
      if (!Double.isFinite(d)) {
        throw ServeError.badRequest("JSON Value: " + shown(val) + " is not a finite number (bss serve refuses NaN and "
            + "Infinity)");
      }
      if (d > Float.MAX_VALUE || d < -Float.MAX_VALUE) {
        throw ServeError.badRequest("Cannot convert JSON value: " + shown(val) + " to float without loss of "
            + "precision.");
      }
      out[count[0]++] = (float) d;
      return;
    }
    if (level >= rank) {
      throw ServeError.badRequest("Encountered list at unexpected level: " + level + " expected < " + rank);
    }
    JsonArray a = val.getAsJsonArray();
    if (a.size() != shape[level]) {
      throw ServeError.badRequest("Encountered list at unexpected size: " + a.size() + " at level: " + level
          + " expected size: " + shape[level]);
    }
    for (JsonElement v : a) {
      fill(v, level + 1, shape, out, count);
    }
  }

  private static String typeName(JsonElement v) {
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

  private static String dtypeName(String dtype) {
    return dtype.startsWith("DT_") ? dtype.substring(3).toLowerCase(java.util.Locale.ROOT) : dtype;
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
