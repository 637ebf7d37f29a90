package dev.bss.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.keras.ReferenceGraph;
import dev.bss.model.layers.Activation;
import dev.bss.model.layers.Conv2D;
import dev.bss.model.layers.GraphContext;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** The graph is checked against the Keras description as it is built: a wrong name or shape fails at once. */
class DescriptionCheckTest {

  @Test
  void theBuiltNetworkHasExactlyTheDescribedWeights() {
    try (Graph g = new Graph()) {
      SeparationModel model = SeparationModel.build(Ops.create(g), ModelConfig.tiny());
      Map<String, long[]> expected = ReferenceGraph.expectedShapes(ModelConfig.tiny());
      Map<String, long[]> built = model.variables().expectedShapes();
      assertEquals(expected.keySet(), built.keySet());
      expected.forEach((path, shape) -> assertTrue(Arrays.equals(shape, built.get(path)), path));
    }
  }

  @Test
  void aVariableTheDescriptionDoesNotHaveOrShapesOtherwiseIsRefusedAsItIsCreated() {
    Map<String, long[]> expected = new LinkedHashMap<>();
    expected.put("conv2d/kernel", new long[] {3, 3, 1, 8});
    expected.put("conv2d/bias", new long[] {8});
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      GraphContext context = new GraphContext(tf, expected);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 32, 32, 1)));
      var e = assertThrows(IllegalStateException.class,
          () -> new Conv2D(context, 16, 3, Activation.RELU).apply(context.input("x", x)));
      assertTrue(e.getMessage().contains("conv2d/kernel of Conv2D has shape [3, 3, 1, 16], the Keras description "
          + "expects [3, 3, 1, 8]"), e.getMessage());
    }
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      GraphContext context = new GraphContext(tf, expected);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 32, 32, 1)));
      new Conv2D(context, 8, 3, Activation.RELU).apply(context.input("x", x));
      context.checkAllCreated();
      expected.put("conv2d_1/kernel", new long[] {3, 3, 8, 8});
      var e = assertThrows(IllegalStateException.class, context::checkAllCreated);
      assertTrue(e.getMessage().contains("[conv2d_1/kernel] were never created"), e.getMessage());
    }
  }
}
