package dev.bss.model;

import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The separation network of the reference notebook, built once in a graph: input {@code [batch, 32, 32, 1]},
 * outputs {@code decoded1} (MNIST) and {@code decoded2} (Fashion-MNIST), each {@code [batch, 32, 32, 1]}.
 *
 * <p>Ports Keras's {@code Model2_UNet_Autoencoder_Transformer}. The graph holds a training branch (batch
 * statistics, dropout) and an inference branch (moving statistics, no dropout) over the same variables.
 * CONTRACT (shared by tf-interop and tf-train); the implementation is filled in by the model work.
 */
public final class SeparationModel {

  private SeparationModel() {}

  /**
   * Builds every variable, both branches, the BN moving-statistics updates and one assign op per variable.
   *
   * @throws IllegalArgumentException naming the layer when the config's widths do not fit together
   */
  public static SeparationModel build(Ops tf, ModelConfig config) {
    throw new UnsupportedOperationException("SeparationModel.build: not implemented yet");
  }

  /** The config this graph was built from. */
  public ModelConfig config() {
    throw new UnsupportedOperationException();
  }

  /** Input placeholder {@code input_img}, shape {@code [-1, 32, 32, 1]}, float32 in [0, 1]. */
  public Placeholder<TFloat32> input() {
    throw new UnsupportedOperationException();
  }

  /**
   * Seed of the stateless dropout of the training branch, shape {@code [2]} int64; fed at every training step
   * (for example {@code [runSeed, step]}) so that a resumed run draws the same masks as an uninterrupted one.
   */
  public Placeholder<TInt64> dropoutSeed() {
    throw new UnsupportedOperationException();
  }

  /** MNIST head {@code decoded1}, {@code [batch, 32, 32, 1]}: training branch if {@code training}, else inference. */
  public Operand<TFloat32> decoded1(boolean training) {
    throw new UnsupportedOperationException();
  }

  /** Fashion-MNIST head {@code decoded2}, {@code [batch, 32, 32, 1]}. */
  public Operand<TFloat32> decoded2(boolean training) {
    throw new UnsupportedOperationException();
  }

  /**
   * Ops that update every BatchNormalization's moving mean and variance from the training branch's batch
   * statistics (Keras 3 rule, biased variance); run them together with each training step.
   */
  public List<Op> batchNormUpdates() {
    throw new UnsupportedOperationException();
  }

  /** Every variable under its Keras path. */
  public VariableRegistry variables() {
    throw new UnsupportedOperationException();
  }

  /** Inference-branch output of every Keras layer, by Keras layer name (for layer-by-layer parity checks). */
  public Map<String, Operand<TFloat32>> layerOutputs() {
    throw new UnsupportedOperationException();
  }

  /** Keras layers in creation order, with output shapes and parameter counts (for {@code bss summary}). */
  public List<LayerInfo> layers() {
    throw new UnsupportedOperationException();
  }

  /**
   * One Keras layer of the network.
   *
   * @param name Keras auto name, e.g. {@code conv2d_5}
   * @param kerasClass Keras class, e.g. {@code Conv2D}
   * @param outputShape output shape without the batch dimension, e.g. {@code [32, 32, 32]}
   * @param parameters number of Keras weights' values
   * @param inbound names of the layers whose outputs feed this one ({@code input_img} for the input)
   */
  public record LayerInfo(String name, String kerasClass, long[] outputShape, long parameters, List<String> inbound) {}
}
