package dev.bss.train.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.model.ModelConfig;
import dev.bss.model.ModelVariable;
import dev.bss.model.layers.Activation;
import dev.bss.model.layers.Conv2D;
import dev.bss.model.layers.Conv2DTranspose;
import dev.bss.model.layers.Dense;
import dev.bss.model.layers.Flow;
import dev.bss.model.layers.GraphContext;
import dev.bss.model.layers.MultiHeadAttention;
import java.util.Map;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** FLOP counting from the graph, against hand counts of single layers (2 FLOPs per multiply-add). */
class FlopCountTest {

  /** Counted FLOPs of what {@code outputs} need. */
  private static Map<String, Long> needed(Graph g, Operand<?>... outputs) {
    return FlopCount.byOpType(FlopCount.needed(List.of(outputs)));
  }

  @Test
  void convolutionsDenseAndAttentionMatchHandCounts() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      GraphContext context = new GraphContext(tf);
      Flow image = context.input("image", tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(1, 8, 8, 3))));
      // Conv2D 3x3, 3 -> 4 channels, 8x8 'same': 8*8*4 outputs, each 3*3*3 multiply-adds.
      Flow conv = new Conv2D(context, 4, 3, Activation.RELU).apply(image);
      assertEquals(Map.of("Conv2D", 2L * 8 * 8 * 4 * 3 * 3 * 3), needed(g, conv.inference()));
      // Conv2DTranspose 3x3 stride 2, 4 -> 5 channels, 8x8 -> 16x16: each of the 8*8*4 inputs scatters into 3*3*5.
      Flow transposed = new Conv2DTranspose(context, 5, 3, 2, Activation.RELU).apply(conv);
      assertEquals(2L * 8 * 8 * 4 * 3 * 3 * 5, needed(g, transposed.inference()).get("Conv2DBackpropInput"));

      Flow tokens = context.input("tokens", tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(1, 6, 5))));
      // Dense 5 -> 7 on 6 tokens.
      Flow dense = new Dense(context, 7, Activation.LINEAR).apply(tokens);
      assertEquals(Map.of("MatMul", 2L * 6 * 5 * 7), needed(g, dense.inference()));
      // Self-attention, 2 heads of key_dim 3 on 6 tokens of 5: Q, K, V projections 5 -> 2*3, scores and weighted
      // sum 6x6 per head over 3, output projection 2*3 -> 5.
      Flow attended = new MultiHeadAttention(context, 2, 3).apply(tokens, tokens);
      long attention = FlopCount.sum(needed(g, attended.inference()));
      long projections = 3 * (2L * 6 * 5 * 6) + 2L * 6 * 6 * 5;
      long core = 2 * (2L * 2 * 6 * 6 * 3);
      assertEquals(projections + core, attention);
    }
  }

  @Test
  void gradientsOfAConvolutionAreCounted() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      GraphContext context = new GraphContext(tf);
      Flow image = context.input("image", tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 8, 8, 3))));
      Flow hidden = new Conv2D(context, 4, 3, Activation.RELU).apply(image);
      Flow out = new Conv2D(context, 2, 3, Activation.LINEAR).apply(hidden);
      Operand<TFloat32> loss = tf.sum(out.training(), tf.constant(new int[] {0, 1, 2, 3}));
      Output<?>[] kernels = context.variables().stream().filter(v -> v.path().endsWith("kernel"))
          .map(ModelVariable::variable).map(Operand::asOutput).toArray(Output<?>[]::new);
      Output<?>[] gradients = g.addGradients(loss.asOutput(), kernels);
      long first = 2L * 2 * 8 * 8 * 4 * 3 * 3 * 3;
      long second = 2L * 2 * 8 * 8 * 2 * 3 * 3 * 4;
      Map<String, Long> training = needed(g, gradients);
      // Forward twice as much as one conv each; both kernels' gradients; only the second's input gradient (the
      // image's is not asked for).
      assertEquals(first + second, training.get("Conv2D"));
      assertEquals(first + second, training.get("Conv2DBackpropFilter"));
      assertEquals(second, training.get("Conv2DBackpropInput"));
    }
  }

  @Test
  void theTinyNetworkCostsAboutThreeForwardPassesToTrain() {
    FlopCount.Flops flops = FlopCount.of(ModelConfig.tiny());
    assertTrue(flops.inference() > 0, flops.toString());
    // Training = the training branch's forward pass + the input and weight gradients (minus the image's).
    double ratio = (double) flops.training() / flops.inference();
    assertTrue(ratio > 2.5 && ratio < 3.0, "training / inference FLOPs: " + ratio);
    assertTrue(flops.trainingByOpType().containsKey("Conv2DBackpropFilter"), flops.toString());
    assertEquals(flops.inference(), FlopCount.sum(flops.inferenceByOpType()));
  }
}
