package dev.bss.model.layers;

/**
 * The seed's pre-norm transformer block on {@code [batch, tokens, d]} (shape kept): {@code x1 = x +
 * Dropout(MHA(LN(x), LN(x)))}, {@code out = x1 + Dropout(Dense(d)(Dense(ff, relu)(LN(x1))))}; the layers are created
 * in the order of the Keras script's {@code transformer_block}.
 */
public final class TransformerBlock {

  private TransformerBlock() {}

  public static Flow apply(GraphContext context, Flow inputs, int numHeads, int embedDim, int ffDim,
      double lnEpsilon, double dropoutRate) {
    Flow norm1 = new LayerNormalization(context, lnEpsilon).apply(inputs);
    Flow attention = new MultiHeadAttention(context, numHeads, embedDim).apply(norm1, norm1);
    attention = new Dropout(context, dropoutRate).apply(attention);
    Flow out1 = ParameterFreeLayer.add(context).apply(inputs, attention);
    Flow norm2 = new LayerNormalization(context, lnEpsilon).apply(out1);
    Flow ffn = new Dense(context, ffDim, Activation.RELU).apply(norm2);
    ffn = new Dense(context, embedDim, Activation.LINEAR).apply(ffn);
    ffn = new Dropout(context, dropoutRate).apply(ffn);
    return ParameterFreeLayer.add(context).apply(out1, ffn);
  }
}
