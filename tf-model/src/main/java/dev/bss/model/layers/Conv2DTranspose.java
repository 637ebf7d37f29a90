package dev.bss.model.layers;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Keras {@code Conv2DTranspose}, padding 'same': {@code [batch, h, w, in] -> [batch, h*s, w*s, filters]}; kernel in
 * Keras's layout {@code [k, k, filters, in]} (the layout of TF's Conv2DBackpropInput), bias {@code [filters]}.
 */
public final class Conv2DTranspose extends KerasLayer {

  private final int filters;
  private final int kernelSize;
  private final int stride;
  private final Activation activation;
  private long[] inputShape;
  private Variable<TFloat32> kernel;
  private Variable<TFloat32> bias;

  public Conv2DTranspose(GraphContext context, int filters, int kernelSize, int stride, Activation activation) {
    super(context, "Conv2DTranspose", "conv2d_transpose", null);
    this.filters = filters;
    this.kernelSize = kernelSize;
    this.stride = stride;
    this.activation = activation;
  }

  @Override
  protected void build(List<long[]> shapes) {
    validate(shapes);
    inputShape = shapes.get(0).clone();
    kernel = addWeight("kernel", new long[] {kernelSize, kernelSize, filters, inputShape[3]}, true,
        Initializer.GLOROT_UNIFORM);
    bias = addWeight("bias", new long[] {filters}, true, Initializer.ZEROS);
  }

  @Override
  protected void validate(List<long[]> shapes) {
    long[] s = shapes.get(0);
    if (s.length != 4 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0
        || (inputShape != null && (s[1] != inputShape[1] || s[2] != inputShape[2] || s[3] != inputShape[3]))) {
      throw inputError(inputShape != null ? GraphContext.describe(inputShape) : "[batch, height, width, channels]", s);
    }
  }

  @Override
  protected Operand<TFloat32> call(Ops ops, List<Operand<TFloat32>> inputs, boolean training) {
    Operand<TFloat32> x = inputs.get(0);
    long height = inputShape[1] * stride;
    long width = inputShape[2] * stride;
    // The batch is dynamic: the output size is [batch of x, h*s, w*s, filters] ('same' padding).
    Operand<TInt32> batch = ops.stridedSlice(ops.shape(x), ops.constant(new int[] {0}), ops.constant(new int[] {1}),
        ops.constant(new int[] {1}));
    Operand<TInt32> outputSize = ops.concat(List.of(batch,
        ops.constant(new int[] {(int) height, (int) width, filters})), ops.constant(0));
    Operand<TFloat32> y = ops.nn.conv2dBackpropInput(outputSize, kernel, x,
        List.of(1L, (long) stride, (long) stride, 1L), "SAME");
    // Restores the static shape that the dynamic output size hides from shape inference.
    y = reshape(ops, y, height, width, filters);
    y = ops.nn.biasAdd(y, bias);
    return activation.apply(ops, y);
  }
}
