package dev.bss.interop.savedmodel;

import dev.bss.interop.keras.ConfigInference;
import dev.bss.interop.LoadedModel;
import dev.bss.interop.ModelFormat;
import dev.bss.interop.keras.WeightCheck;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import dev.bss.model.WeightSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.Restore;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObject;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObjectGraph;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedVariable;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.TrackableObjectGraphOuterClass.TrackableObjectGraph;
import org.tensorflow.proto.TrackableObjectGraphOuterClass.TrackableObjectGraph.TrackableObject;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * The variables of a Keras-made SavedModel ({@code saved_model.pb} + {@code variables/}) and their mapping to the
 * reference network's Keras paths, so that {@code bss import} can take such a model's weights.
 *
 * <p>Every variable is listed from the SavedModel's object graph (checkpoint key, dtype, shape) and read with one
 * {@code RestoreV2}. Two key styles are mapped:
 *
 * <ul>
 *   <li>tf.keras 2 {@code model.save(dir)}: {@code layer_with_weights-<i>/<var>}, i counting the layers that have
 *       weights in {@code model.layers} order; MultiHeadAttention's sublayers are {@code _query_dense},
 *       {@code _key_dense}, {@code _value_dense}, {@code _output_dense}. A variable whose shortest object path runs
 *       through the model's {@code variables} list (the MHA sublayers' ones, one level deeper) has the key
 *       {@code variables/<k>} instead.
 *   <li>Keras 3 {@code model.export(dir)}: {@code variables/<k>}, k indexing {@code model.variables}, which is
 *       {@code model.weights} in {@code model.layers} order with the non-float seed-generator states (Dropout) in
 *       between.
 * </ul>
 *
 * <p>The position embedding of the reference network is a traced constant in such a SavedModel, not a variable, so
 * it must be given separately.
 */
public final class SavedModelVariables {

  /** Suffix of a variable's value in an object-based checkpoint key. */
  public static final String VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE";

  private static final String OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH";
  private static final Pattern LAYER_WITH_WEIGHTS = Pattern.compile("^layer_with_weights-(\\d+)/(.+)$");
  private static final Pattern MODEL_VARIABLES = Pattern.compile("^variables/(\\d+)$");
  private static final Map<String, String> MHA_SUBLAYERS = Map.of("_query_dense", "query", "_key_dense", "key",
      "_value_dense", "value", "_output_dense", "attention_output");
  /** Transformer blocks tried when matching a variable count (far beyond any sensible network). */
  private static final int MAX_BLOCKS = 64;

  /**
   * One variable of a SavedModel.
   *
   * @param key checkpoint key, e.g. {@code layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE}
   * @param dtype its dtype, e.g. {@code DT_FLOAT}
   * @param shape its shape
   */
  public record Variable(String key, DataType dtype, long[] shape) {

    /** The object path: the key without {@link #VALUE_SUFFIX}, e.g. {@code layer_with_weights-0/kernel}. */
    public String path() {
      return key.endsWith(VALUE_SUFFIX) ? key.substring(0, key.length() - VALUE_SUFFIX.length()) : key;
    }

    @Override
    public String toString() {
      return path() + " " + dtype + " " + Arrays.toString(shape);
    }
  }

  private SavedModelVariables() {}

  /**
   * Imports the weights of a Keras-made SavedModel of the reference network.
   *
   * @param config overrides the config inferred from the shapes (null: infer)
   * @param positionEmbedding the position embedding ({@code [1, 16, embed_dim]}), required: Keras traced it as a
   *     constant
   * @throws IllegalArgumentException with one line naming the directory: another architecture, a missing position
   *     embedding, or every missing, mis-shaped and non-finite weight
   */
  public static LoadedModel read(Path dir, ModelConfig config, Weight positionEmbedding) {
    String where = "SavedModel " + dir;
    List<Variable> variables = list(dir);
    Map<String, String> keyToPath = kerasPaths(variables, where);
    requirePositionEmbedding(positionEmbedding, where);
    return assemble(keyToPath, readFloats(dir, new ArrayList<>(keyToPath.keySet())), config, positionEmbedding, dir);
  }

  /**
   * Builds the WeightSet from mapped values, infers the config (unless given) and validates everything at once.
   *
   * @param keyToPath checkpoint key -> Keras path (from {@link #kerasPaths(List, String)})
   * @param values checkpoint key -> value
   */
  static LoadedModel assemble(Map<String, String> keyToPath, Map<String, Weight> values, ModelConfig config,
      Weight positionEmbedding, Path dir) {
    String where = "SavedModel " + dir;
    requirePositionEmbedding(positionEmbedding, where);
    WeightSet weights = new WeightSet();
    keyToPath.forEach((key, path) -> weights.put(path, values.get(key)));
    weights.put(WeightSet.POSITION_EMBEDDING, positionEmbedding);
    ModelConfig c = config != null ? config : ConfigInference.fromKerasPaths(weights, where);
    WeightCheck.validate(weights, c, where);
    return new LoadedModel(ModelFormat.SAVED_MODEL, dir, c, weights);
  }

  private static void requirePositionEmbedding(Weight positionEmbedding, String where) {
    if (positionEmbedding == null) {
      throw new IllegalArgumentException(where + ": a Keras-made SavedModel holds the position embedding as a traced "
          + "constant, not a variable; give it with --pos-embedding FILE.npy (shape [1, 16, embed_dim])");
    }
  }

  /**
   * Every variable of a SavedModel in object-graph order, with its checkpoint key, dtype and shape.
   *
   * <p>The key is the one the checkpoint's own object graph records for the node (same node ids as the SavedModel's
   * object graph); without it, the breadth-first shortest path from the root, which is how TensorFlow names keys.
   *
   * @throws IllegalArgumentException naming the directory when saved_model.pb or the checkpoint cannot be read
   */
  public static List<Variable> list(Path dir) {
    SavedObjectGraph objects = objectGraph(dir);
    List<String> keys = checkpointKeys(dir, objects.getNodesCount());
    if (keys == null) {
      keys = breadthFirstKeys(objects);
    }
    List<Variable> out = new ArrayList<>();
    for (int i = 0; i < objects.getNodesCount(); i++) {
      SavedObject node = objects.getNodes(i);
      if (node.hasVariable() && keys.get(i) != null) {
        SavedVariable v = node.getVariable();
        out.add(new Variable(keys.get(i), v.getDtype(), dims(v.getShape())));
      }
    }
    return out;
  }

  /**
   * Reads float32 variables by checkpoint key with one RestoreV2 run (in a fresh graph).
   *
   * @return key -> value, in the order of {@code keys}
   * @throws IllegalArgumentException naming the directory when a key is absent or not float32
   */
  public static Map<String, Weight> readFloats(Path dir, List<String> keys) {
    Map<String, Weight> out = new LinkedHashMap<>();
    if (keys.isEmpty()) {
      return out;
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Class<? extends TType>> types = Collections.nCopies(keys.size(), TFloat32.class);
      Restore restore = tf.train.restore(tf.constant(prefix(dir)),
          tf.constant(NdArrays.vectorOfObjects(keys.toArray(new String[0]))),
          tf.constant(NdArrays.vectorOfObjects(Collections.nCopies(keys.size(), "").toArray(new String[0]))), types);
      Session.Runner runner = s.runner();
      for (Operand<?> t : restore.tensors()) {
        runner.fetch(t);
      }
      try (Result r = runner.run()) {
        for (int i = 0; i < keys.size(); i++) {
          TFloat32 f = (TFloat32) r.get(i);
          float[] data = new float[Math.toIntExact(f.shape().size())];
          f.asRawTensor().data().asFloats().read(data);
          out.put(keys.get(i), new Weight(f.shape().asArray(), data));
        }
      }
    } catch (TensorFlowException e) {
      throw new IllegalArgumentException("SavedModel " + dir + ": cannot read its variables (" + firstLine(e) + ")", e);
    }
    return out;
  }

  /**
   * Maps the model variables of a Keras-made SavedModel of the reference network to Keras paths; the number of
   * transformer blocks is the one whose variable count matches.
   *
   * @param where names the source in messages
   * @return checkpoint key -> Keras path, for every float model variable
   * @throws IllegalArgumentException one line: another architecture (no block count fits the number of model
   *     variables), or every key that maps nowhere, twice, and every Keras weight that no key gives
   */
  public static Map<String, String> kerasPaths(List<Variable> variables, String where) {
    List<Variable> model = modelVariables(variables);
    List<String> layout = null;
    for (int blocks = 1; blocks <= MAX_BLOCKS && layout == null; blocks++) {
      List<String> candidate = kerasWeightOrder(blocks);
      if (candidate.size() == model.size()) {
        layout = candidate;
      }
    }
    if (layout == null) {
      List<String> seen = model.stream().limit(3).map(Variable::toString).toList();
      throw new IllegalArgumentException(where + ": its weights cannot be mapped to the network: another "
          + "architecture, not the reference separation network: "
          + model.size() + " model variables (" + (seen.isEmpty() ? "none" : String.join(", ", seen)
          + (model.size() > 3 ? ", ..." : "")) + ") fit no number of transformer blocks (the network has "
          + kerasWeightOrder(1).size() + " with one block, " + (kerasWeightOrder(2).size() - kerasWeightOrder(1).size())
          + " more per block); it can still be run for inference with bss separate/compare/evaluate");
    }
    return kerasPaths(variables, layout, where);
  }

  /**
   * Maps model variables to the given Keras weights ({@code model.weights} order).
   *
   * @param layout Keras paths in {@code model.weights} order, without the position embedding
   */
  static Map<String, String> kerasPaths(List<Variable> variables, List<String> layout, String where) {
    List<String> layers = new ArrayList<>();
    for (String path : layout) {
      String layer = path.substring(0, path.indexOf('/'));
      if (!layers.contains(layer)) {
        layers.add(layer);
      }
    }
    List<Integer> nonFloatIndices = new ArrayList<>();
    for (Variable v : variables) {
      Matcher m = MODEL_VARIABLES.matcher(v.path());
      if (m.matches() && v.dtype() != DataType.DT_FLOAT) {
        nonFloatIndices.add(Integer.parseInt(m.group(1)));
      }
    }
    Map<String, String> out = new LinkedHashMap<>();
    Map<String, String> byPath = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (Variable v : modelVariables(variables)) {
      String path = kerasPath(v.path(), layers, layout, nonFloatIndices);
      if (path == null) {
        problems.add(v.path() + " maps to no Keras weight");
      } else if (byPath.containsKey(path)) {
        problems.add(v.path() + " and " + byPath.get(path) + " both map to " + path);
      } else {
        byPath.put(path, v.path());
        out.put(v.key(), path);
      }
    }
    for (String path : layout) {
      if (!byPath.containsKey(path)) {
        problems.add(path + " missing");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(where + ": its variables do not map to the reference network: "
          + problems.size() + " problem(s): " + String.join("; ", problems.subList(0, Math.min(12, problems.size())))
          + (problems.size() > 12 ? "; ... (" + (problems.size() - 12) + " more)" : ""));
    }
    return out;
  }

  /** The Keras weights of the reference network with {@code blocks} transformer blocks, model.weights order. */
  static List<String> kerasWeightOrder(int blocks) {
    ModelConfig structure = new ModelConfig(new int[] {1, 1, 1}, 1, 1, 1, blocks, 1, 1, 1, 1e-6, 0.1, false);
    List<String> order = new ArrayList<>(WeightCheck.expectedShapes(structure).keySet());
    order.remove(WeightSet.POSITION_EMBEDDING);
    return order;
  }

  /** The float variables that belong to the model (not the optimizer's, not metrics', not seed states). */
  private static List<Variable> modelVariables(List<Variable> variables) {
    return variables.stream().filter(v -> v.dtype() == DataType.DT_FLOAT)
        .filter(v -> LAYER_WITH_WEIGHTS.matcher(v.path()).matches() || MODEL_VARIABLES.matcher(v.path()).matches())
        .toList();
  }

  private static String kerasPath(String objectPath, List<String> layers, List<String> layout,
      List<Integer> nonFloatIndices) {
    Matcher m = LAYER_WITH_WEIGHTS.matcher(objectPath);
    if (m.matches()) {
      int layer = Integer.parseInt(m.group(1));
      if (layer >= layers.size()) {
        return null;
      }
      String local = m.group(2);
      int slash = local.indexOf('/');
      if (slash > 0 && MHA_SUBLAYERS.containsKey(local.substring(0, slash))) {
        local = MHA_SUBLAYERS.get(local.substring(0, slash)) + local.substring(slash);
      }
      String path = layers.get(layer) + "/" + local;
      return layout.contains(path) ? path : null;
    }
    m = MODEL_VARIABLES.matcher(objectPath);
    if (m.matches()) {
      // model.variables holds Keras 3's seed states among the weights: skip those before this one.
      int k = Integer.parseInt(m.group(1));
      int index = k - (int) nonFloatIndices.stream().filter(j -> j < k).count();
      return index < layout.size() ? layout.get(index) : null;
    }
    return null;
  }

  static SavedObjectGraph objectGraph(Path dir) {
    Path pb = dir.resolve("saved_model.pb");
    SavedModel model;
    try {
      model = SavedModel.parseFrom(Files.readAllBytes(pb));
    } catch (IOException e) {
      throw new IllegalArgumentException("SavedModel " + dir + ": cannot read saved_model.pb (" + e.getMessage() + ")",
          e);
    }
    for (MetaGraphDef meta : model.getMetaGraphsList()) {
      if (meta.hasObjectGraphDef() && meta.getObjectGraphDef().getNodesCount() > 0) {
        return meta.getObjectGraphDef();
      }
    }
    throw new IllegalArgumentException("SavedModel " + dir + ": saved_model.pb has no object graph (a TF1 SavedModel?);"
        + " its weights cannot be mapped to the network; it can still be run for inference with "
        + "bss separate/compare/evaluate");
  }

  /** Keys by node id from the checkpoint's own object graph; null when absent or of another size. */
  static List<String> checkpointKeys(Path dir, int nodes) {
    byte[] serialized;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Restore restore = tf.train.restore(tf.constant(prefix(dir)), tf.constant(NdArrays.vectorOfObjects(
          OBJECT_GRAPH_KEY)), tf.constant(NdArrays.vectorOfObjects("")), List.of(TString.class));
      try (Result r = s.runner().fetch(restore.tensors().get(0)).run()) {
        serialized = ((TString) r.get(0)).asBytes().getObject();
      }
    } catch (TensorFlowException e) {
      return null;
    }
    TrackableObjectGraph graph;
    try {
      graph = TrackableObjectGraph.parseFrom(serialized);
    } catch (IOException e) {
      return null;
    }
    if (graph.getNodesCount() != nodes) {
      return null;
    }
    List<String> keys = new ArrayList<>();
    for (TrackableObject node : graph.getNodesList()) {
      String key = null;
      for (TrackableObject.SerializedTensor a : node.getAttributesList()) {
        if (a.getName().equals("VARIABLE_VALUE")) {
          key = a.getCheckpointKey();
        }
      }
      keys.add(key);
    }
    return keys;
  }

  /** TensorFlow's key rule: the breadth-first first path from the root, names escaped ("/" -> ".S", "." -> ".."). */
  static List<String> breadthFirstKeys(SavedObjectGraph objects) {
    String[] paths = new String[objects.getNodesCount()];
    paths[0] = "";
    ArrayDeque<Integer> queue = new ArrayDeque<>(List.of(0));
    while (!queue.isEmpty()) {
      int node = queue.poll();
      for (var child : objects.getNodes(node).getChildrenList()) {
        if (paths[child.getNodeId()] == null) {
          String name = child.getLocalName().replace(".", "..").replace("/", ".S");
          paths[child.getNodeId()] = paths[node].isEmpty() ? name : paths[node] + "/" + name;
          queue.add(child.getNodeId());
        }
      }
    }
    List<String> keys = new ArrayList<>();
    for (String p : paths) {
      keys.add(p == null || p.isEmpty() ? null : p + VALUE_SUFFIX);
    }
    return keys;
  }

  private static long[] dims(TensorShapeProto shape) {
    return shape.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
  }

  private static String prefix(Path dir) {
    return dir.resolve("variables").resolve("variables").toString();
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
