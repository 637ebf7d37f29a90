package dev.bss.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Names, shapes, parameter counts and build-time errors of the network (graph construction only, no session). */
class ModelStructureTest {

  private static Graph seedGraph;
  private static SeparationModel seed;

  @BeforeAll
  static void buildSeed() {
    seedGraph = new Graph();
    seed = SeparationModel.build(Ops.create(seedGraph), ModelConfig.seed());
  }

  @AfterAll
  static void close() {
    seedGraph.close();
  }

  @Test
  void seedParameterCountsAreTheNotebooks() {
    VariableRegistry r = seed.variables();
    assertEquals(4_491_402L, r.parameterCount());
    assertEquals(4_489_098L, r.trainableParameterCount());
    assertEquals(2_304L, r.nonTrainableParameterCount());
    assertEquals(4_491_402L, seed.layers().stream().mapToLong(LayerInfo::parameters).sum());
  }

  @Test
  void tinyAndTrainablePositionVariantCounts() {
    try (Graph g = new Graph()) {
      SeparationModel tiny = SeparationModel.build(Ops.create(g), ModelConfig.tiny());
      assertEquals(132_066L, tiny.variables().parameterCount());
      assertFalse(tiny.variables().get(WeightSet.POSITION_EMBEDDING).trainable());
    }
    try (Graph g = new Graph()) {
      SeparationModel m = SeparationModel.build(Ops.create(g), ModelConfig.tiny().withTrainablePositionEmbedding(true));
      ModelVariable pos = m.variables().get(WeightSet.POSITION_EMBEDDING);
      assertTrue(pos.trainable());
      assertFalse(pos.kerasWeight());
      assertEquals(132_066L + 16 * 24, m.variables().parameterCount());
      assertEquals(576L, m.variables().nonTrainableParameterCount());
    }
  }

  @Test
  void variablesCarryKerasPathsShapesAndFlags() {
    VariableRegistry r = seed.variables();
    assertArrayEquals(new long[] {3, 3, 1, 32}, r.get("conv2d/kernel").shape());
    assertArrayEquals(new long[] {192, 4, 192}, r.get("multi_head_attention_1/query/kernel").shape());
    assertArrayEquals(new long[] {4, 192}, r.get("multi_head_attention_1/value/bias").shape());
    assertArrayEquals(new long[] {4, 192, 192}, r.get("multi_head_attention_2/attention_output/kernel").shape());
    assertArrayEquals(new long[] {3, 3, 128, 192}, r.get("conv2d_transpose/kernel").shape());
    assertArrayEquals(new long[] {7, 7, 2, 1}, r.get("conv2d_7/kernel").shape());
    assertFalse(r.contains("conv2d_7/bias"), "CBAM's spatial conv has no bias");
    assertArrayEquals(new long[] {1, 16, 192}, r.get(WeightSet.POSITION_EMBEDDING).shape());
    assertFalse(r.get("batch_normalization_3/moving_variance").trainable());
    assertTrue(r.get("batch_normalization_3/gamma").trainable());
    assertEquals("MultiHeadAttention", r.get("multi_head_attention_4/key/kernel").layerClass());
    assertEquals("decoded2", r.get("decoded2/kernel").layerName());
    assertEquals("conv2d/kernel", r.get("conv2d/kernel").variable().op().name(), "graph op named by the Keras path");
    assertEquals(r.all().size(), new HashSet<>(r.all().stream().map(ModelVariable::path).toList()).size());
    assertThrows(IllegalArgumentException.class, () -> r.get("conv2d_99/kernel"));
  }

  @Test
  void layersAreNamedAsKerasAutoNamesThem() {
    List<String> names = seed.layers().stream().map(LayerInfo::name).toList();
    assertEquals(187, names.size(), "input, the position add and Keras's 185 layers");
    assertEquals(List.of("input_img", "conv2d", "conv2d_1", "max_pooling2d"), names.subList(0, 4));
    // MultiHeadAttention's internal Dropout takes dropout, dropout_3, ...: the model's own start at dropout_1.
    assertFalse(names.contains("dropout"));
    assertTrue(names.containsAll(List.of("dropout_1", "dropout_2", "dropout_4", "dropout_14", "add_16", "reshape_17",
        "concatenate_11", "multiply_11", "lambda_11", "activation_5", "global_max_pooling2d_5", "dense_22",
        "conv2d_19", "conv2d_transpose_7", "batch_normalization_15", "layer_normalization_9",
        "multi_head_attention_4", "decoded1", "decoded2")));
    assertFalse(names.contains("dropout_3"));
    // Decoder 1 is created completely before decoder 2.
    assertTrue(names.indexOf("decoded1") < names.indexOf("conv2d_transpose_4"));
    LayerInfo concat = seed.layers().get(names.indexOf("concatenate"));
    assertEquals(List.of("batch_normalization", "conv2d_5"), concat.inbound());
    assertArrayEquals(new long[] {8, 8, 256}, concat.outputShape());
    assertArrayEquals(new long[] {32, 32, 1}, seed.layers().get(names.indexOf("decoded2")).outputShape());
    assertEquals(839_680L - 592_320L - 768L, params("dense_1") + params("dense_2"));
    assertEquals(592_320L, params("multi_head_attention"));
    assertEquals(98L, params("conv2d_7"));
  }

  @Test
  void inputOfTheWrongShapeNamesTheInputLayer() {
    try (Graph g = new Graph()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> SeparationModel.build(Ops.create(g), ModelConfig.tiny(), Shape.of(-1, 28, 28, 1)));
      assertEquals("input_img (InputLayer): expected input [batch, 32, 32, 1], found [batch, 28, 28, 1]",
          e.getMessage());
    }
  }

  @Test
  void configWhoseWidthsDoNotFitIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelConfig.fromMap(Map.of("filters", List.of(8.0, 16.0, 32.0), "cbam_ratio", 16.0)));
    assertTrue(e.getMessage().contains("cbam_ratio"), e.getMessage());
  }

  @Test
  void layerErrorsNameTheLayer() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      dev.bss.model.layers.GraphContext context = new dev.bss.model.layers.GraphContext(tf);
      var image = context.input("x", tf.placeholder(TFloat32.class,
          org.tensorflow.op.core.Placeholder.shape(Shape.of(-1, 8, 8, 4))));
      var tokens = context.input("t", tf.placeholder(TFloat32.class,
          org.tensorflow.op.core.Placeholder.shape(Shape.of(-1, 16, 6))));
      var dense = new dev.bss.model.layers.Dense(context, 3, dev.bss.model.layers.Activation.RELU);
      dense.apply(image);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dense.apply(tokens));
      assertEquals("dense (Dense): expected input [batch, ..., 4], found [batch, 16, 6]", e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> dev.bss.model.layers.ParameterFreeLayer.reshape(context, 16, 5).apply(image));
      assertTrue(e.getMessage().startsWith("reshape (Reshape): expected input a tensor of 80 values per sample"),
          e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> new dev.bss.model.layers.BatchNormalization(context).apply(tokens));
      assertEquals("batch_normalization (BatchNormalization): expected input [batch, height, width, channels],"
          + " found [batch, 16, 6]", e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> dev.bss.model.layers.ParameterFreeLayer.concatenate(context).apply(image, tokens));
      assertTrue(e.getMessage().startsWith("concatenate (Concatenate): expected input inputs that agree"),
          e.getMessage());
    }
  }

  @Test
  void everyTrainableVariableGetsAGradient() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      SeparationModel m = SeparationModel.build(tf, ModelConfig.tiny());
      Operand<TFloat32> loss = tf.math.add(tf.reduceSum(m.decoded1(true), tf.constant(new int[] {0, 1, 2, 3})),
          tf.reduceSum(m.decoded2(true), tf.constant(new int[] {0, 1, 2, 3})));
      List<Operand<?>> xs = new ArrayList<>();
      m.variables().trainable().forEach(v -> xs.add(v.variable()));
      var grads = tf.gradients(loss, xs);
      assertEquals(xs.size(), grads.dy().size());
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < xs.size(); i++) {
        assertNotNull(grads.dy(i), "gradient of " + m.variables().trainable().get(i).path());
        seen.add(m.variables().trainable().get(i).path());
      }
      assertFalse(seen.contains(WeightSet.POSITION_EMBEDDING), "the seed's position embedding is frozen");
    }
  }

  private static long params(String layer) {
    return seed.layers().stream().filter(l -> l.name().equals(layer)).findFirst().orElseThrow().parameters();
  }
}
