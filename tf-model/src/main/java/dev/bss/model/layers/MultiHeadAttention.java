package dev.bss.model.layers;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TFloat32;

/**
 * Keras {@code MultiHeadAttention}, called as {@code mha(query, value)} (the network uses self-attention,
 * {@code mha(x, x)}): {@code [batch, tokens, d] -> [batch, tokens, d]}, value_dim = key_dim, no attention dropout.
 *
 * <p>Weights in Keras's shapes and order: {@code query|key|value/kernel [d, heads, key_dim]},
 * {@code query|key|value/bias [heads, key_dim]}, {@code attention_output/kernel [heads, key_dim, d]},
 * {@code attention_output/bias [d]}. The query is scaled by {@code 1 / sqrt(key_dim)} before the dot product, the
 * softmax runs over the keys. Like Keras, construction also consumes the auto names of the internal
 * {@code softmax} and {@code dropout} layers.
 */
public final class MultiHeadAttention extends KerasLayer {

  private final int numHeads;
  private final int keyDim;
  private long tokens = -1;
  private long features = -1;
  private Variable<TFloat32> queryKernel;
  private Variable<TFloat32> queryBias;
  private Variable<TFloat32> keyKernel;
  private Variable<TFloat32> keyBias;
  private Variable<TFloat32> valueKernel;
  private Variable<TFloat32> valueBias;
  private Variable<TFloat32> outputKernel;
  private Variable<TFloat32> outputBias;

  public MultiHeadAttention(GraphContext context, int numHeads, int keyDim) {
    super(context, "MultiHeadAttention", "multi_head_attention", null);
    this.numHeads = numHeads;
    this.keyDim = keyDim;
    // Keras: MultiHeadAttention owns a Softmax and a Dropout layer that take auto names (dropout_N is then
    // missing from the model's Dropout layers).
    context.autoName("softmax");
    context.autoName("dropout");
  }

  @Override
  protected void build(List<long[]> shapes) {
    validate(shapes);
    long[] s = shapes.get(0);
    tokens = s[1];
    features = s[2];
    long[] projection = {features, numHeads, keyDim};
    long[] projectionBias = {numHeads, keyDim};
    queryKernel = addWeight("query/kernel", projection, true, Initializer.GLOROT_UNIFORM);
    queryBias = addWeight("query/bias", projectionBias, true, Initializer.ZEROS);
    keyKernel = addWeight("key/kernel", projection, true, Initializer.GLOROT_UNIFORM);
    keyBias = addWeight("key/bias", projectionBias, true, Initializer.ZEROS);
    valueKernel = addWeight("value/kernel", projection, true, Initializer.GLOROT_UNIFORM);
    valueBias = addWeight("value/bias", projectionBias, true, Initializer.ZEROS);
    outputKernel = addWeight("attention_output/kernel", new long[] {numHeads, keyDim, features}, true,
        Initializer.GLOROT_UNIFORM);
    outputBias = addWeight("attention_output/bias", new long[] {features}, true, Initializer.ZEROS);
  }

  @Override
  protected void validate(List<long[]> shapes) {
    for (long[] s : shapes) {
      if (s.length != 3 || s[1] <= 0 || s[2] <= 0 || (features > 0 && (s[1] != tokens || s[2] != features))) {
        throw inputError(features > 0 ? "[batch, " + tokens + ", " + features + "]" : "[batch, tokens, features]", s);
      }
    }
  }

  @Override
  protected Operand<TFloat32> call(Ops ops, List<Operand<TFloat32>> inputs, boolean training) {
    // Keras call(query, value): the key defaults to the value.
    Operand<TFloat32> queryInput = ops.reshape(inputs.get(0), ops.constant(new long[] {-1, features}));
    Operand<TFloat32> valueInput = inputs.size() > 1
        ? ops.reshape(inputs.get(1), ops.constant(new long[] {-1, features})) : queryInput;
    Operand<TFloat32> query = ops.math.mul(project(ops, queryInput, queryKernel, queryBias),
        ops.constant((float) (1.0 / Math.sqrt(keyDim))));
    Operand<TFloat32> key = project(ops, valueInput, keyKernel, keyBias);
    Operand<TFloat32> value = project(ops, valueInput, valueKernel, valueBias);
    // scores [batch, heads, queries, keys]
    Operand<TFloat32> scores = ops.train.batchMatMul(query, key, TFloat32.class, BatchMatMul.adjY(true));
    Operand<TFloat32> weights = ops.nn.softmax(scores);
    Operand<TFloat32> context = ops.train.batchMatMul(weights, value, TFloat32.class); // [b, heads, tokens, keyDim]
    Operand<TFloat32> merged = ops.reshape(ops.linalg.transpose(context, ops.constant(new int[] {0, 2, 1, 3})),
        ops.constant(new long[] {-1, (long) numHeads * keyDim}));
    Operand<TFloat32> kernel = ops.reshape(outputKernel, ops.constant(new long[] {(long) numHeads * keyDim, features}));
    Operand<TFloat32> out = ops.nn.biasAdd(ops.linalg.matMul(merged, kernel), outputBias);
    return reshape(ops, out, tokens, features);
  }

  /** {@code einsum("abc,cde->abde") + bias}, returned as {@code [batch, heads, tokens, keyDim]}. */
  private Operand<TFloat32> project(Ops ops, Operand<TFloat32> flat, Variable<TFloat32> kernel,
      Variable<TFloat32> bias) {
    long width = (long) numHeads * keyDim;
    Operand<TFloat32> y = ops.nn.biasAdd(
        ops.linalg.matMul(flat, ops.reshape(kernel, ops.constant(new long[] {features, width}))),
        ops.reshape(bias, ops.constant(new long[] {width})));
    y = ops.reshape(y, ops.constant(new long[] {-1, tokens, numHeads, keyDim}));
    return ops.linalg.transpose(y, ops.constant(new int[] {0, 2, 1, 3}));
  }
}
