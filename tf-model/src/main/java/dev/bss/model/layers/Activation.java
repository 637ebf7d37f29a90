package dev.bss.model.layers;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** The activations the network uses inside its layers (Keras {@code activation=...}). */
public enum Activation {
  LINEAR,
  RELU,
  SIGMOID;

  public Operand<TFloat32> apply(Ops ops, Operand<TFloat32> x) {
    return switch (this) {
      case LINEAR -> x;
      case RELU -> ops.nn.relu(x);
      case SIGMOID -> ops.math.sigmoid(x);
    };
  }
}
