package dev.bss.train.serve;

import java.util.List;
import java.util.Map;

/**
 * A model as {@code bss serve} exposes it: named signatures of float32 tensors, one of them the default.
 *
 * <p>Implementations are thread-safe: a TensorFlow session may be run from several threads at once.
 */
public interface ServedModel extends AutoCloseable {

  /** One input or output of a signature: key, dtype name ({@code DT_FLOAT}), shape ({@code -1} unknown), tensor. */
  record TensorSpec(String key, String dtype, long[] shape, String tensorName) {}

  /** A signature: its key, method name and inputs and outputs by key (sorted). */
  record SignatureSpec(String key, String methodName, List<TensorSpec> inputs, List<TensorSpec> outputs) {

    /** The input with this key, or null. */
    public TensorSpec input(String name) {
      return inputs.stream().filter(t -> t.key().equals(name)).findFirst().orElse(null);
    }
  }

  /** The signatures by key (sorted). */
  Map<String, SignatureSpec> signatures();

  /** The key used when a request names none ({@code serving_default}, else {@code serve}, else the only one). */
  String defaultSignature();

  /**
   * Runs a signature on a batch.
   *
   * @param inputs every input of the signature by key, each with the same first dimension
   * @return every float output by key
   * @throws IllegalArgumentException when TensorFlow refuses the inputs (the message is the client's error)
   */
  Map<String, FloatTensor> run(String signature, Map<String, FloatTensor> inputs);

  /**
   * Whether the default signature separates mixtures (one input [-1, 32, 32, 1], two image outputs), so that
   * {@code /v1/separate} and the page are offered.
   */
  boolean separates();

  /** The output keys of the default signature holding the MNIST and the Fashion-MNIST estimate, if it separates. */
  List<String> separationOutputs();

  /** One line saying what was loaded. */
  String description();

  @Override
  void close();
}
