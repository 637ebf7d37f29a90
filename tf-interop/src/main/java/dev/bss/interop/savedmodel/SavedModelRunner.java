package dev.bss.interop.savedmodel;

import org.tensorflow.proto.ConfigProto;
import dev.bss.model.Weight;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * Any TensorFlow SavedModel (ours, tf.keras 2 {@code model.save(dir)}, Keras 3 {@code model.export(dir)}) loaded
 * with the {@code serve} tag and run through its serving signature.
 *
 * <p>The signature is chosen by key ({@code serving_default}, else {@code serve}, else the only one) and its input
 * and output names are read from it, never assumed: SavedModel sorts output keys alphabetically before numbering
 * the tensors {@code StatefulPartitionedCall:0..n}, so outputs are returned by key.
 */
public final class SavedModelRunner implements AutoCloseable {

  private final Path dir;
  private final SavedModelBundle bundle;
  private final Signature signature;

  private SavedModelRunner(Path dir, SavedModelBundle bundle, Signature signature) {
    this.dir = dir;
    this.bundle = bundle;
    this.signature = signature;
  }

  /**
   * Loads a SavedModel directory (its ops checked first, see {@link SavedModelOpCheck}).
   *
   * @throws IllegalArgumentException naming the directory when it is not a SavedModel, cannot be loaded, or has no
   *     serving signature
   */
  public static SavedModelRunner open(Path dir) {
    return open(dir, null);
  }

  /**
   * Loads a SavedModel directory with a session config (threads, device placement), or TensorFlow's defaults if
   * {@code sessionConfig} is null; its ops are checked first ({@link SavedModelOpCheck}).
   *
   * @throws IllegalArgumentException naming the directory when it is not a SavedModel, cannot be loaded, or has no
   *     serving signature
   */
  public static SavedModelRunner open(Path dir, ConfigProto sessionConfig) {
    return open(dir, sessionConfig, false);
  }

  /**
   * Loads a SavedModel directory; unless {@code trustModel}, first checks with {@link SavedModelOpCheck} that
   * loading and running it only does pure computation.
   *
   * @throws SavedModelOpCheck.UntrustedOpException naming an op outside the allow-list (only when not trusted)
   * @throws IllegalArgumentException naming the directory when it is not a SavedModel, cannot be loaded, or has no
   *     serving signature
   */
  public static SavedModelRunner open(Path dir, ConfigProto sessionConfig, boolean trustModel) {
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      throw new IllegalArgumentException("SavedModel " + dir + ": no saved_model.pb (not a SavedModel directory)");
    }
    if (!trustModel) {
      SavedModelOpCheck.check(dir);
    }
    SavedModelBundle bundle;
    try {
      SavedModelBundle.Loader loader = SavedModelBundle.loader(dir.toString()).withTags("serve");
      bundle = (sessionConfig == null ? loader : loader.withConfigProto(sessionConfig)).load();
    } catch (TensorFlowException | IllegalArgumentException e) {
      throw new IllegalArgumentException("SavedModel " + dir + ": cannot load with tag 'serve': "
          + firstLine(e.getMessage()), e);
    }
    try {
      return new SavedModelRunner(dir, bundle, choose(dir, bundle.signatures()));
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  private static Signature choose(Path dir, List<Signature> signatures) {
    Map<String, Signature> byKey = new TreeMap<>();
    for (Signature s : signatures) {
      byKey.put(s.key(), s);
    }
    for (String key : List.of("serving_default", "serve")) {
      if (byKey.containsKey(key)) {
        return byKey.get(key);
      }
    }
    if (byKey.size() == 1) {
      return byKey.values().iterator().next();
    }
    throw new IllegalArgumentException("SavedModel " + dir + ": no serving_default signature (expected "
        + "serving_default, serve or a single signature; found " + (byKey.isEmpty() ? "none" : byKey.keySet()) + ")");
  }

  /** The chosen signature's key. */
  public String signatureKey() {
    return signature.key();
  }

  /** Input keys of the signature (sorted). */
  public List<String> inputKeys() {
    return new ArrayList<>(new TreeMap<>(signature.getInputs()).keySet());
  }

  /** Output keys of the signature (sorted, as SavedModel numbers them). */
  public List<String> outputKeys() {
    return new ArrayList<>(new TreeMap<>(signature.getOutputs()).keySet());
  }

  /** Shape of an input or output as the signature declares it ({@code -1} for unknown dimensions). */
  public long[] shape(String key) {
    Signature.TensorDescription d = signature.getInputs().containsKey(key) ? signature.getInputs().get(key)
        : signature.getOutputs().get(key);
    if (d == null) {
      throw new IllegalArgumentException("SavedModel " + dir + ": signature " + signature.key() + " has no tensor '"
          + key + "'");
    }
    return d.shape.isUnknown() ? null : d.shape.asArray();
  }

  /** Data type of an input or output. */
  public DataType dataType(String key) {
    Signature.TensorDescription d = signature.getInputs().containsKey(key) ? signature.getInputs().get(key)
        : signature.getOutputs().get(key);
    return d == null ? null : d.dataType;
  }

  /**
   * The signature in one line, e.g. {@code serving_default (tensorflow/serving/predict): input encoder_input
   * DT_FLOAT [-1, 32, 32, 1] (serving_default_encoder_input:0) -> output model_3 DT_FLOAT [-1, 32, 32, 1]
   * (StatefulPartitionedCall:0)}.
   */
  public String describe() {
    StringBuilder sb = new StringBuilder(signature.key()).append(" (").append(signature.methodName()).append("):");
    for (String k : inputKeys()) {
      sb.append(" input ").append(tensor(k, signature.getInputs().get(k)));
    }
    sb.append(" ->");
    String sep = " output ";
    for (String k : outputKeys()) {
      sb.append(sep).append(tensor(k, signature.getOutputs().get(k)));
      sep = ", output ";
    }
    return sb.toString();
  }

  private static String tensor(String key, Signature.TensorDescription d) {
    return key + " " + d.dataType + " " + (d.shape.isUnknown() ? "[?]" : Arrays.toString(d.shape.asArray()))
        + " (" + d.name + ")";
  }

  /**
   * Runs the signature on one float input and returns every float output by key.
   *
   * @param shape the input's full shape including the batch dimension
   * @throws IllegalArgumentException when the signature does not have exactly one input, or the shape does not fit
   */
  public Map<String, Weight> run(float[] values, long[] shape) {
    List<String> inputs = inputKeys();
    if (inputs.size() != 1) {
      throw new IllegalArgumentException("SavedModel " + dir + ": signature " + signature.key() + " takes "
          + inputs.size() + " inputs " + inputs + ", expected exactly one image input");
    }
    String inputKey = inputs.get(0);
    long[] declared = shape(inputKey);
    if (declared != null) {
      boolean fits = declared.length == shape.length;
      for (int i = 0; fits && i < shape.length; i++) {
        fits = declared[i] < 0 || declared[i] == shape[i];
      }
      if (!fits) {
        throw new IllegalArgumentException("SavedModel " + dir + ": input '" + inputKey + "' expects shape "
            + Arrays.toString(declared) + ", found " + Arrays.toString(shape));
      }
    }
    if (dataType(inputKey) != DataType.DT_FLOAT) {
      throw new IllegalArgumentException("SavedModel " + dir + ": input '" + inputKey + "' is " + dataType(inputKey)
          + ", expected DT_FLOAT");
    }
    Map<String, Weight> out = new LinkedHashMap<>();
    try (TFloat32 input = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(values, true, false));
        Result result = bundle.function(signature.key()).call(Map.of(inputKey, input))) {
      for (String key : outputKeys()) {
        Tensor t = result.get(key).orElseThrow(() -> new IllegalStateException("SavedModel " + dir
            + ": output '" + key + "' missing from the result"));
        if (t instanceof TFloat32 f) {
          float[] data = new float[Math.toIntExact(f.shape().size())];
          f.asRawTensor().data().asFloats().read(data);
          out.put(key, new Weight(f.shape().asArray(), data));
        }
      }
    } catch (TensorFlowException e) {
      throw new IllegalArgumentException("SavedModel " + dir + ": running " + signature.key() + " failed: "
          + firstLine(e.getMessage()), e);
    }
    return out;
  }

  /** The underlying bundle (its session holds the variables). */
  public SavedModelBundle bundle() {
    return bundle;
  }

  public Path directory() {
    return dir;
  }

  @Override
  public void close() {
    bundle.close();
  }

  static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse(s);
  }
}
