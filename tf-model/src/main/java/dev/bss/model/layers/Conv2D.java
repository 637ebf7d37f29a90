package dev.bss.model.layers;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Keras {@code Conv2D} with padding 'same': {@code [batch, h, w, in] -> [batch, ceil(h/s), ceil(w/s), filters]};
 * kernel {@code [k, k, in, filters]}, bias {@code [filters]} (optional), activation inside the layer.
 */
public final class Conv2D extends KerasLayer {

  private final int filters;
  private final int kernelSize;
  private final int stride;
  private final Activation activation;
  private final boolean useBias;
  private final Initializer kernelInitializer;
  private long inChannels = -1;
  private Variable<TFloat32> kernel;
  private Variable<TFloat32> bias;

  public Conv2D(GraphContext context, String explicitName, int filters, int kernelSize, int stride,
      Activation activation, boolean useBias, Initializer kernelInitializer) {
    super(context, "Conv2D", "conv2d", explicitName);
    this.filters = filters;
    this.kernelSize = kernelSize;
    this.stride = stride;
    this.activation = activation;
    this.useBias = useBias;
    this.kernelInitializer = kernelInitializer;
  }

  /** Conv2D with glorot_uniform kernel and bias, stride 1 (the network's usual convolution). */
  public Conv2D(GraphContext context, int filters, int kernelSize, Activation activation) {
    this(context, null, filters, kernelSize, 1, activation, true, Initializer.GLOROT_UNIFORM);
  }

  @Override
  protected void build(List<long[]> shapes) {
    validate(shapes);
    inChannels = last(shapes.get(0));
    kernel = addWeight("kernel", new long[] {kernelSize, kernelSize, inChannels, filters}, true, kernelInitializer);
    if (useBias) {
      bias = addWeight("bias", new long[] {filters}, true, Initializer.ZEROS);
    }
  }

  @Override
  protected void validate(List<long[]> shapes) {
    long[] s = shapes.get(0);
    if (s.length != 4 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0 || (inChannels > 0 && s[3] != inChannels)) {
      throw inputError("[batch, height, width, " + (inChannels > 0 ? inChannels : "channels") + "]", s);
    }
  }

  @Override
  protected Operand<TFloat32> call(Ops ops, List<Operand<TFloat32>> inputs, boolean training) {
    Operand<TFloat32> y = ops.nn.conv2d(inputs.get(0), kernel, List.of(1L, (long) stride, (long) stride, 1L), "SAME");
    if (useBias) {
      y = ops.nn.biasAdd(y, bias);
    }
    return activation.apply(ops, y);
  }
}
