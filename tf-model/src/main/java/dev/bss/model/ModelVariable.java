package dev.bss.model;

import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * One variable of the network, registered under its Keras path.
 *
 * @param path Keras variable path, e.g. {@code conv2d_5/kernel}, {@code multi_head_attention_1/query/kernel},
 *     {@code batch_normalization_3/moving_variance}, or {@link WeightSet#POSITION_EMBEDDING}
 * @param layerName Keras layer name, e.g. {@code conv2d_5} (for the position embedding: {@code add})
 * @param layerClass Keras layer class, e.g. {@code Conv2D}, {@code MultiHeadAttention}
 * @param shape Keras shape of the variable
 * @param trainable whether the optimizer updates it (false for BN moving statistics and the frozen position embedding)
 * @param kerasWeight whether Keras counts and saves it as a layer weight (false for the frozen position embedding,
 *     which Keras does not track)
 * @param variable the graph variable (a VariableV2, so that SavedModel export saves it)
 * @param feed placeholder of the same shape, fed to {@link #assign()}
 * @param assign assigns {@link #feed()} to {@link #variable()}
 */
public record ModelVariable(
    String path,
    String layerName,
    String layerClass,
    long[] shape,
    boolean trainable,
    boolean kerasWeight,
    Variable<TFloat32> variable,
    Placeholder<TFloat32> feed,
    Assign<TFloat32> assign) {

  /** Number of scalar values. */
  public long size() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
