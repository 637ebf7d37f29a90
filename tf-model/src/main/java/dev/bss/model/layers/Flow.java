package dev.bss.model.layers;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * One Keras tensor seen in both branches of the graph: the training branch (batch statistics, dropout) and the
 * inference branch (moving statistics, no dropout), plus the call ("node") that produced it.
 *
 * @param training output in the training branch, {@code [batch, ...]}
 * @param inference output in the inference branch, same shape
 * @param node index of the producing call in {@link GraphContext#nodes()}
 */
public record Flow(Operand<TFloat32> training, Operand<TFloat32> inference, int node) {}
