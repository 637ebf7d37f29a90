package dev.bss.train.serve;

import dev.bss.interop.savedmodel.SavedModelRunner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
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
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Any SavedModel (ours or Keras-made, of any architecture) served through all of its signatures.
 *
 * <p>Loaded by {@link SavedModelRunner}, so its ops are checked first unless trusted.
 */
public final class SavedModelServed implements ServedModel {

  private final SavedModelRunner runner;
  private final Map<String, SignatureSpec> signatures = new TreeMap<>();
  private final List<String> separationOutputs;

  /**
   * Loads a SavedModel directory.
   *
   * @throws IllegalArgumentException naming the directory and the problem (including an untrusted op)
   */
  public SavedModelServed(Path dir, ConfigProto sessionConfig, boolean trustModel) {
    this.runner = SavedModelRunner.open(dir, sessionConfig, trustModel);
    SavedModelBundle bundle = runner.bundle();
    for (Signature s : bundle.signatures()) {
      signatures.put(s.key(), new SignatureSpec(s.key(), s.methodName(), specs(s.getInputs()), specs(s.getOutputs())));
    }
    this.separationOutputs = separationOutputs(signatures.get(runner.signatureKey()));
  }

  private static List<TensorSpec> specs(Map<String, Signature.TensorDescription> map) {
    List<TensorSpec> list = new ArrayList<>();
    new TreeMap<>(map).forEach((k, d) -> list.add(new TensorSpec(k, d.dataType.name(),
        d.shape.isUnknown() ? null : d.shape.asArray(), d.name)));
    return Collections.unmodifiableList(list);
  }

  /** decoded1/decoded2 (ours, tf.keras 2) or output_0/output_1 (Keras 3) over one [-1, 32, 32, 1] input. */
  static List<String> separationOutputs(SignatureSpec s) {
    if (s == null || s.inputs().size() != 1 || !isImage(s.inputs().get(0).shape())) {
      return List.of();
    }
    List<String> keys = s.outputs().stream().map(TensorSpec::key).toList();
    if (keys.containsAll(List.of("decoded1", "decoded2"))) {
      return List.of("decoded1", "decoded2");
    }
    return keys.equals(List.of("output_0", "output_1")) ? keys : List.of();
  }

  private static boolean isImage(long[] shape) {
    return shape != null && shape.length == 4 && (shape[1] < 0 || shape[1] == 32) && (shape[2] < 0 || shape[2] == 32)
        && (shape[3] < 0 || shape[3] == 1);
  }

  @Override
  public Map<String, SignatureSpec> signatures() {
    return Collections.unmodifiableMap(signatures);
  }

  @Override
  public String defaultSignature() {
    return runner.signatureKey();
  }

  @Override
  public Map<String, FloatTensor> run(String signature, Map<String, FloatTensor> inputs) {
    SignatureSpec spec = signatures.get(signature);
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, FloatTensor> e : inputs.entrySet()) {
        feeds.put(e.getKey(), TFloat32.tensorOf(Shape.of(e.getValue().shape()),
            DataBuffers.of(e.getValue().values(), true, false)));
      }
      Map<String, FloatTensor> out = new LinkedHashMap<>();
      try (Result result = runner.bundle().function(signature).call(feeds)) {
        for (TensorSpec o : spec.outputs()) {
          Tensor t = result.get(o.key()).orElseThrow(() -> new IllegalStateException("output '" + o.key()
              + "' missing from the result"));
          if (!(t instanceof TFloat32 f)) {
            throw new IllegalArgumentException("output '" + o.key() + "' is " + o.dtype() + "; bss serve returns "
                + "DT_FLOAT outputs only");
          }
          float[] data = new float[Math.toIntExact(f.shape().size())];
          f.asRawTensor().data().asFloats().read(data);
          out.put(o.key(), new FloatTensor(f.shape().asArray(), data));
        }
      }
      return out;
    } catch (TensorFlowException e) {
      String m = e.getMessage() == null ? e.toString() : e.getMessage();
      throw new IllegalArgumentException(m.lines().findFirst().orElse(m), e);
    } finally {
      feeds.values().forEach(Tensor::close);
    }
  }

  @Override
  public boolean separates() {
    return !separationOutputs.isEmpty();
  }

  @Override
  public List<String> separationOutputs() {
    return separationOutputs;
  }

  @Override
  public String description() {
    return "SavedModel " + runner.directory() + " (" + signatures.size() + " signature"
        + (signatures.size() == 1 ? "" : "s") + "; default " + runner.describe() + ")";
  }

  @Override
  public void close() {
    runner.close();
  }
}
