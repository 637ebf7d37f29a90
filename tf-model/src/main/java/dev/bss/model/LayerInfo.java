package dev.bss.model;

import java.util.Arrays;
import java.util.List;

/**
 * One Keras layer of the network.
 *
 * @param name Keras auto name, e.g. {@code conv2d_5}
 * @param kerasClass Keras class, e.g. {@code Conv2D}
 * @param outputShape output shape without the batch dimension, e.g. {@code [32, 32, 32]}
 * @param parameters number of Keras weights' values
 * @param inbound names of the layers whose outputs feed this one ({@code input_img} for the input)
 */
public record LayerInfo(String name, String kerasClass, long[] outputShape, long parameters, List<String> inbound) {

  @Override
  public String toString() {
    return name + " (" + kerasClass + ") " + Arrays.toString(outputShape) + " " + parameters;
  }
}
