package dev.bss.model.layers;

/**
 * CBAM (convolutional block attention module) on {@code [batch, h, w, c]} (shape kept), exactly as the seed's
 * {@code cbam_block}: channel attention {@code sigmoid(mlp(avgpool) + mlp(maxpool))} with one shared pair of Dense
 * layers ({@code c / ratio} relu and {@code c}, he_normal, zero bias), then spatial attention
 * {@code sigmoid(conv7x7([mean_c, max_c]))} without bias.
 */
public final class Cbam {

  private Cbam() {}

  public static Flow apply(GraphContext context, Flow input, int ratio) {
    long[] shape = GraphContext.staticShape(input.inference());
    int channels = (int) shape[3];
    if (channels / ratio < 1) {
      throw new IllegalArgumentException("CBAM after layer " + context.nodes().get(input.node()).layer() + ": "
          + channels + " channels with ratio " + ratio + " leave no hidden unit");
    }
    Dense sharedOne = new Dense(context, channels / ratio, Activation.RELU, Initializer.HE_NORMAL);
    Dense sharedTwo = new Dense(context, channels, Activation.LINEAR, Initializer.HE_NORMAL);
    Flow avg = ParameterFreeLayer.globalAveragePooling(context).apply(input);
    avg = ParameterFreeLayer.reshape(context, 1, 1, channels).apply(avg);
    avg = sharedTwo.apply(sharedOne.apply(avg));
    Flow max = ParameterFreeLayer.globalMaxPooling(context).apply(input);
    max = ParameterFreeLayer.reshape(context, 1, 1, channels).apply(max);
    max = sharedTwo.apply(sharedOne.apply(max));
    Flow channelAttention = ParameterFreeLayer.add(context).apply(avg, max);
    channelAttention = ParameterFreeLayer.sigmoid(context).apply(channelAttention);
    Flow refined = ParameterFreeLayer.multiply(context).apply(input, channelAttention);
    Flow meanMap = ParameterFreeLayer.channelMean(context).apply(refined);
    Flow maxMap = ParameterFreeLayer.channelMax(context).apply(refined);
    Flow maps = ParameterFreeLayer.concatenate(context).apply(meanMap, maxMap);
    Flow spatialAttention = new Conv2D(context, null, 1, 7, 1, Activation.SIGMOID, false, Initializer.HE_NORMAL)
        .apply(maps);
    return ParameterFreeLayer.multiply(context).apply(refined, spatialAttention);
  }
}
