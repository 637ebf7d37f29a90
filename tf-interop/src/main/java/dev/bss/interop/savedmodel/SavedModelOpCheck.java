package dev.bss.interop.savedmodel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * Refuses a SavedModel whose graph would run anything but pure computation, before TensorFlow loads it.
 *
 * <p>A SavedModel is a program: loading it runs its restore and init ops, and running a signature runs every op the
 * outputs depend on. This check reads {@code saved_model.pb} (the {@code serve} meta graph) and walks, from every
 * signature's outputs, from the init ops ({@code __saved_model_init_op}, {@code saved_model_main_op},
 * {@code legacy_init_op}, {@code table_initializer}) and from the saver's restore op, every node reachable through
 * data and control inputs, and the whole body of every function such a node calls (by op name, or through a function
 * attribute: {@code StatefulPartitionedCall}, {@code PartitionedCall}, {@code If}, {@code While}, ... as Keras-made
 * TF2 SavedModels do). Each op must be in {@link #PURE_OPS}; the loader's own restore ({@code RestoreV2} and its
 * kin) is allowed only in the subgraph of the saver's restore op. The first other op found is reported by
 * {@link UntrustedOpException}, naming the op type, the node and where it was found.
 */
public final class SavedModelOpCheck {

  /** Ops of pure computation: math, neural-network kernels, shape and array manipulation, control flow, variables. */
  public static final Set<String> PURE_OPS = Set.of(
      // graph plumbing and control flow
      "Placeholder", "PlaceholderWithDefault", "Const", "HostConst", "Identity", "IdentityN", "NoOp", "StopGradient",
      "PreventGradient", "Snapshot", "EnsureShape", "CheckNumerics", "CheckNumericsV2", "Assert", "ZerosLike",
      "OnesLike", "PartitionedCall", "StatefulPartitionedCall", "If", "StatelessIf", "While", "StatelessWhile",
      "Case", "StatelessCase", "Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond", "RefSwitch",
      "RefIdentity", "_Arg", "_Retval", "_Recv", "_Send", "_HostRecv", "_HostSend", "Fill", "Range",
      // variables (resource and reference style): read and assign, no I/O
      "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp",
      "VarIsInitializedOp", "DestroyResourceOp", "ResourceGather", "ResourceGatherNd", "VariableV2", "Variable",
      "Assign", "AssignAdd", "AssignSub", "IsVariableInitialized", "DisableCopyOnRead",
      // tensor lists and arrays (Keras's recurrent layers loop over them in While bodies)
      "TensorListReserve", "TensorListFromTensor", "TensorListGetItem", "TensorListSetItem", "TensorListStack",
      "TensorListLength", "TensorListElementShape", "TensorListPushBack", "TensorListPopBack", "EmptyTensorList",
      "TensorArrayV3", "TensorArrayReadV3", "TensorArrayWriteV3", "TensorArrayGatherV3", "TensorArrayScatterV3",
      "TensorArraySizeV3", "Empty",
      // shapes and array manipulation
      "Shape", "ShapeN", "Size", "Rank", "Reshape", "ExpandDims", "Squeeze", "Transpose", "ConjugateTranspose",
      "Concat", "ConcatV2", "ConcatOffset", "Pack", "Unpack", "Split", "SplitV", "Slice", "StridedSlice",
      "StridedSliceGrad", "TensorScatterUpdate", "TensorScatterAdd", "ScatterNd", "Gather", "GatherV2", "GatherNd",
      "Tile", "Pad", "PadV2", "MirrorPad", "BroadcastTo", "BroadcastArgs", "BroadcastGradientArgs", "Reverse",
      "ReverseV2", "OneHot", "Where", "Select", "SelectV2", "Cast", "Bitcast", "DepthToSpace", "SpaceToDepth",
      "SpaceToBatchND", "BatchToSpaceND", "InvertPermutation", "LinSpace", "Cumsum", "Cumprod", "TopKV2", "ArgMax",
      "ArgMin", "Unique", "MatrixDiag", "MatrixDiagV3", "MatrixBandPart", "Einsum", "ClipByValue",
      // math
      "Add", "AddV2", "AddN", "Sub", "Mul", "MulNoNan", "Div", "DivNoNan", "RealDiv", "FloorDiv", "FloorMod",
      "TruncateDiv", "TruncateMod", "Mod", "Pow", "Neg", "Abs", "Sign", "Square", "Sqrt", "Rsqrt", "Reciprocal",
      "Inv", "Exp", "Expm1", "Log", "Log1p", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Atan2", "Sinh", "Cosh",
      "Tanh", "Asinh", "Acosh", "Atanh", "Erf", "Erfc", "Lgamma", "Digamma", "Floor", "Ceil", "Round", "Rint",
      "Maximum", "Minimum", "SquaredDifference", "Xlogy", "Xdivy", "IsNan", "IsInf", "IsFinite", "Equal",
      "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalNot",
      "Sum", "Mean", "Prod", "Max", "Min", "All", "Any", "EuclideanNorm", "MatMul", "BatchMatMul",
      "BatchMatMulV2", "BatchMatMulV3", "Cross", "BiasAdd", "BiasAddV1", "SegmentSum", "UnsortedSegmentSum",
      "BitwiseAnd", "BitwiseOr", "BitwiseXor", "LeftShift", "RightShift",
      // neural-network kernels
      "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Softplus", "Softsign", "Sigmoid", "Softmax", "LogSoftmax",
      "Conv2D", "Conv2DBackpropInput", "Conv3D", "Conv3DBackpropInputV2", "Conv1D", "DepthwiseConv2dNative",
      "DepthwiseConv2dNativeBackpropInput", "MaxPool", "MaxPoolV2", "MaxPool3D", "AvgPool", "AvgPool3D",
      "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "LRN", "L2Loss", "Dilation2D",
      "ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea", "ScaleAndTranslate",
      // random numbers (stateless, or seeded from the graph; no I/O)
      "StatelessRandomUniform", "StatelessRandomUniformV2", "StatelessRandomNormal", "StatelessRandomNormalV2",
      "StatelessTruncatedNormal", "StatelessTruncatedNormalV2", "StatelessRandomGetKeyCounter",
      "StatelessRandomGetKeyCounterAlg", "StatelessRandomGetAlg", "RandomUniform", "RandomStandardNormal",
      "TruncatedNormal", "RandomUniformInt", "RngReadAndSkip", "RngSkip", "StatefulUniform",
      "StatefulStandardNormalV2", "StatefulTruncatedNormal",
      // strings held in the graph (names, checkpoint prefixes); no file access
      "StringJoin", "StaticRegexFullMatch", "ShardedFilename");

  /** The loader's own restore: allowed only under the saver's restore op, which the loader runs itself. */
  public static final Set<String> RESTORE_OPS = Set.of("RestoreV2", "Restore", "RestoreSlice", "ShardedFilename",
      "ShardedFilespec");

  /** An op outside the allow-list, found where the loader or a signature would run it. */
  public static final class UntrustedOpException extends IllegalArgumentException {
    private final String opType;

    UntrustedOpException(String message, String opType) {
      super(message);
      this.opType = opType;
    }

    /** The refused op's type, e.g. {@code WriteFile}. */
    public String opType() {
      return opType;
    }
  }

  private final Path dir;
  private final Map<String, NodeDef> nodes = new HashMap<>();
  private final Map<String, FunctionDef> functions = new HashMap<>();
  private final Set<String> visitedNodes = new HashSet<>();
  private final Set<String> visitedFunctions = new HashSet<>();
  private final Set<String> seenOps = new TreeSet<>();

  private SavedModelOpCheck(Path dir, GraphDef graph) {
    this.dir = dir;
    graph.getNodeList().forEach(n -> nodes.put(n.getName(), n));
    graph.getLibrary().getFunctionList().forEach(f -> functions.put(f.getSignature().getName(), f));
  }

  /**
   * Checks the {@code serve} meta graph of a SavedModel directory.
   *
   * @return the op types the loader and the signatures would run (sorted)
   * @throws UntrustedOpException naming the first op outside the allow-list
   * @throws IllegalArgumentException naming the directory when {@code saved_model.pb} cannot be read
   */
  public static Set<String> check(Path dir) {
    MetaGraphDef meta = serveMetaGraph(dir);
    SavedModelOpCheck walk = new SavedModelOpCheck(dir, meta.getGraphDef());
    if (meta.hasSaverDef() && !meta.getSaverDef().getRestoreOpName().isEmpty()) {
      walk.walkNodes(List.of(meta.getSaverDef().getRestoreOpName()), "the saver's restore op", true);
    }
    for (String key : List.of("saved_model_main_op", "legacy_init_op", "table_initializer", "init_op")) {
      CollectionDef c = meta.getCollectionDefMap().get(key);
      if (c != null && c.hasNodeList()) {
        walk.walkNodes(c.getNodeList().getValueList(), "init op collection " + key, false);
      }
    }
    for (Map.Entry<String, SignatureDef> e : new java.util.TreeMap<>(meta.getSignatureDefMap()).entrySet()) {
      List<String> roots = new java.util.ArrayList<>();
      for (TensorInfo t : e.getValue().getOutputsMap().values()) {
        roots.addAll(tensorNames(t));
      }
      walk.walkNodes(roots, "signature " + e.getKey(), false);
    }
    return walk.seenOps;
  }

  private static List<String> tensorNames(TensorInfo t) {
    if (t.hasCooSparse()) {
      return List.of(t.getCooSparse().getValuesTensorName(), t.getCooSparse().getIndicesTensorName(),
          t.getCooSparse().getDenseShapeTensorName());
    }
    if (t.hasCompositeTensor()) {
      List<String> names = new java.util.ArrayList<>();
      t.getCompositeTensor().getComponentsList().forEach(c -> names.addAll(tensorNames(c)));
      return names;
    }
    return List.of(t.getName());
  }

  /** Reads {@code saved_model.pb} and returns its meta graph tagged {@code serve}. */
  static MetaGraphDef serveMetaGraph(Path dir) {
    SavedModel model;
    try (InputStream in = Files.newInputStream(dir.resolve("saved_model.pb"))) {
      model = SavedModel.parseFrom(in);
    } catch (IOException e) {
      throw new IllegalArgumentException("SavedModel " + dir + ": cannot read saved_model.pb (" + e.getMessage()
          + ")", e);
    }
    for (MetaGraphDef m : model.getMetaGraphsList()) {
      if (m.getMetaInfoDef().getTagsList().contains("serve")) {
        return m;
      }
    }
    throw new IllegalArgumentException("SavedModel " + dir + ": no meta graph tagged 'serve' in saved_model.pb");
  }

  private static String nodeName(String input) {
    String s = input.startsWith("^") ? input.substring(1) : input;
    int colon = s.indexOf(':');
    return colon < 0 ? s : s.substring(0, colon);
  }

  private void walkNodes(List<String> roots, String where, boolean restore) {
    Deque<String> todo = new ArrayDeque<>();
    roots.forEach(r -> todo.push(nodeName(r)));
    while (!todo.isEmpty()) {
      String name = todo.pop();
      // The restore subgraph is walked with its own allowance, so a node seen there is checked again elsewhere.
      if (!visitedNodes.add((restore ? "restore:" : "") + name)) {
        continue;
      }
      NodeDef node = nodes.get(name);
      if (node == null) {
        continue; // a dangling name makes TensorFlow itself fail to load or run the model
      }
      checkNode(node, where, restore);
      for (String input : node.getInputList()) {
        todo.push(nodeName(input));
      }
    }
  }

  private void checkNode(NodeDef node, String where, boolean restore) {
    String op = node.getOp();
    if (functions.containsKey(op)) {
      walkFunction(op, where, restore);
    } else {
      allow(op, node.getName(), where, restore);
    }
    for (AttrValue a : node.getAttrMap().values()) {
      walkFunctionAttr(a, where, restore);
    }
  }

  private void walkFunctionAttr(AttrValue a, String where, boolean restore) {
    if (a.hasFunc()) {
      walkFunction(a.getFunc(), where, restore);
    }
    if (a.hasList()) {
      for (NameAttrList f : a.getList().getFuncList()) {
        walkFunction(f, where, restore);
      }
    }
  }

  private void walkFunction(NameAttrList f, String where, boolean restore) {
    walkFunction(f.getName(), where, restore);
    f.getAttrMap().values().forEach(a -> walkFunctionAttr(a, where, restore));
  }

  private void walkFunction(String name, String where, boolean restore) {
    FunctionDef f = functions.get(name);
    if (f == null || !visitedFunctions.add((restore ? "restore:" : "") + name)) {
      return;
    }
    // Every node of a function body runs when the function is called (stateful ops are never pruned), so all of them
    // are checked, not only those the function's outputs depend on.
    for (NodeDef node : f.getNodeDefList()) {
      checkNode(node, where + ", function " + name, restore);
    }
  }

  private void allow(String op, String node, String where, boolean restore) {
    if (PURE_OPS.contains(op) || (restore && RESTORE_OPS.contains(op))) {
      seenOps.add(op);
      return;
    }
    throw new UntrustedOpException("SavedModel " + dir + ": refusing to run op " + op + " (node '" + node + "' in "
        + where + "): not in the allow-list of pure computation" + hint(op)
        + "; pass --trust-model to run this model anyway", op);
  }

  private static String hint(String op) {
    if (op.contains("File") || op.contains("Reader") || op.contains("Dataset") || op.contains("Iterator")) {
      return " (file or data I/O)";
    }
    if (op.startsWith("Save") || op.startsWith("Restore") || op.contains("Checkpoint")) {
      return " (checkpoint I/O outside the loader's own restore)";
    }
    if (op.contains("PyFunc") || op.contains("EagerPyFunc")) {
      return " (runs Python code)";
    }
    if (op.contains("Queue") || op.contains("Print") || op.contains("Summary") || op.contains("Rpc")) {
      return " (queue, print, summary or network side effect)";
    }
    return "";
  }
}
