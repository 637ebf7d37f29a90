package dev.bss.model;

import dev.bss.model.keras.ReferenceGraph;
import dev.bss.model.layers.Activation;
import dev.bss.model.layers.BatchNormalization;
import dev.bss.model.layers.Cbam;
import dev.bss.model.layers.Conv2D;
import dev.bss.model.layers.Conv2DTranspose;
import dev.bss.model.layers.Dense;
import dev.bss.model.layers.Flow;
import dev.bss.model.layers.GraphContext;
import dev.bss.model.layers.Initializer;
import dev.bss.model.layers.ParameterFreeLayer;
import dev.bss.model.layers.TransformerBlock;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The separation network of the reference notebook, built once in a graph: input {@code [batch, 32, 32, 1]},
 * outputs {@code decoded1} (MNIST) and {@code decoded2} (Fashion-MNIST), each {@code [batch, 32, 32, 1]}.
 *
 * <p>Ports Keras's {@code Model2_UNet_Autoencoder_Transformer} layer for layer, constructing the layers in the Keras
 * script's order so that every layer and variable carries its Keras auto name. The graph holds a training branch
 * (batch statistics, dropout) and an inference branch (moving statistics, no dropout) over the same variables.
 */
public final class SeparationModel {

  /** Name of the input layer and placeholder. */
  public static final String INPUT_NAME = "input_img";
  /** Keras layer name of the bare {@code x + pos_embedding} operation (not a layer in {@code model.layers}). */
  public static final String POSITION_ADD = "add";

  private final ModelConfig config;
  private final Placeholder<TFloat32> input;
  private final GraphContext context;
  private final Flow decoded1;
  private final Flow decoded2;
  private final VariableRegistry registry;

  private SeparationModel(ModelConfig config, Placeholder<TFloat32> input, GraphContext context, Flow decoded1,
      Flow decoded2) {
    this.config = config;
    this.input = input;
    this.context = context;
    this.decoded1 = decoded1;
    this.decoded2 = decoded2;
    context.checkAllCreated();
    this.registry = new VariableRegistry(context.variables(), context.initializers());
  }

  /**
   * Builds every variable, both branches, the BN moving-statistics updates and one assign op per variable.
   *
   * <p>Variables are VariableV2 ops named by their Keras path ({@code conv2d_5/kernel}, with {@code _feed} and
   * {@code _assign} ops next to them), the input is {@code input_img}, the dropout seed {@code dropout_seed}; layer
   * ops live under {@code training/} and {@code inference/}. One model per graph (the names are fixed). Every op
   * used has a registered gradient, so {@code tf.gradients} of a training-branch loss works.
   *
   * @throws IllegalArgumentException naming the layer when the config's widths do not fit together
   */
  public static SeparationModel build(Ops tf, ModelConfig config) {
    return build(tf, config, Shape.of(-1, ModelConfig.IMAGE_SIZE, ModelConfig.IMAGE_SIZE, 1));
  }

  /**
   * Builds the network on an input placeholder of the given shape; anything but {@code [batch, 32, 32, 1]} is
   * rejected naming {@code input_img}. A positive batch fixes the placeholder's batch (static shapes everywhere);
   * -1 leaves it open.
   */
  public static SeparationModel build(Ops tf, ModelConfig config, Shape inputShape) {
    long[] s = inputShape.asArray();
    if (s == null || s.length != 4 || s[1] != ModelConfig.IMAGE_SIZE || s[2] != ModelConfig.IMAGE_SIZE || s[3] != 1) {
      throw new IllegalArgumentException(INPUT_NAME + " (InputLayer): expected input [batch, 32, 32, 1], found "
          + (s == null ? "unknown rank" : GraphContext.describe(s)));
    }
    GraphContext context = new GraphContext(tf, ReferenceGraph.expectedShapes(config));
    // A fixed batch (s[0] > 0) gives every op a static shape, which FLOP counting needs; -1 is the usual.
    Placeholder<TFloat32> input = tf.withName(INPUT_NAME).placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(s[0] > 0 ? s[0] : -1, ModelConfig.IMAGE_SIZE, ModelConfig.IMAGE_SIZE, 1)));
    Flow image = context.input(INPUT_NAME, input);
    int[] f = config.filters();
    int embed = config.embedDim();

    // Encoder (skips e1, e2, e3).
    Flow e1 = new Conv2D(context, f[0], 3, Activation.RELU).apply(image);
    e1 = new Conv2D(context, f[0], 3, Activation.RELU).apply(e1);
    Flow p1 = ParameterFreeLayer.maxPooling(context).apply(e1);
    Flow e2 = new Conv2D(context, f[1], 3, Activation.RELU).apply(p1);
    e2 = new Conv2D(context, f[1], 3, Activation.RELU).apply(e2);
    Flow p2 = ParameterFreeLayer.maxPooling(context).apply(e2);
    Flow e3 = new Conv2D(context, f[2], 3, Activation.RELU).apply(p2);
    e3 = new Conv2D(context, f[2], 3, Activation.RELU).apply(e3);
    Flow encoded = ParameterFreeLayer.maxPooling(context).apply(e3);

    // Bottleneck: 16 tokens of f[2] -> embed, plus the position embedding, then the transformer blocks.
    Flow tokens = ParameterFreeLayer.reshape(context, ModelConfig.TOKENS, f[2]).apply(encoded);
    tokens = new Dense(context, embed, Activation.LINEAR).apply(tokens);
    tokens = addPositionEmbedding(context, config, tokens);
    for (int i = 0; i < config.numBlocks(); i++) {
      tokens = TransformerBlock.apply(context, tokens, config.numHeads(), embed, config.ffDim(), config.lnEpsilon(),
          config.dropout());
    }
    Flow encodedTrans = ParameterFreeLayer.reshape(context, 4, 4, embed).apply(tokens);

    Flow d1 = decoder(context, config, encodedTrans, e1, e2, e3, "decoded1");
    Flow d2 = decoder(context, config, encodedTrans, e1, e2, e3, "decoded2");
    return new SeparationModel(config, input, context, d1, d2);
  }

  /**
   * The notebook's {@code x + pos_embedding}: a bare Keras operation (auto name {@code add}, not a layer); the
   * embedding is a variable registered as {@code pos_embedding}, frozen unless the config opts in.
   */
  private static Flow addPositionEmbedding(GraphContext context, ModelConfig config, Flow tokens) {
    String name = context.autoName("add");
    long[] shape = {1, ModelConfig.TOKENS, config.embedDim()};
    Variable<TFloat32> position = context.variable(name, "Add", WeightSet.POSITION_EMBEDDING, shape,
        config.trainablePositionEmbedding(), false, Initializer.STANDARD_NORMAL);
    long parameters = config.trainablePositionEmbedding() ? ModelConfig.TOKENS * (long) config.embedDim() : 0;
    return context.call(name, "Add", parameters, List.of(tokens), (ops, training) -> {
      Operand<TFloat32> embedding = config.trainablePositionEmbedding() ? position : ops.stopGradient(position);
      return ops.math.add(training ? tokens.training() : tokens.inference(), embedding);
    });
  }

  /** One decoder exactly as the seed's {@code decoder(...)}, ending in the head named {@code headName}. */
  private static Flow decoder(GraphContext context, ModelConfig config, Flow encodedTrans, Flow e1, Flow e2, Flow e3,
      String headName) {
    int[] f = config.filters();
    int ratio = config.cbamRatio();
    Flow d = new Conv2DTranspose(context, f[2], 3, 2, Activation.RELU).apply(encodedTrans);
    d = new BatchNormalization(context).apply(d);
    d = ParameterFreeLayer.concatenate(context).apply(d, e3);
    d = new Conv2D(context, f[2], 3, Activation.RELU).apply(d);
    d = new BatchNormalization(context).apply(d);
    d = Cbam.apply(context, d, ratio);
    d = new Conv2DTranspose(context, f[1], 3, 2, Activation.RELU).apply(d);
    d = new BatchNormalization(context).apply(d);
    d = ParameterFreeLayer.concatenate(context).apply(d, e2);
    d = new Conv2D(context, f[1], 3, Activation.RELU).apply(d);
    d = new BatchNormalization(context).apply(d);
    d = Cbam.apply(context, d, ratio);

    // Autoencoder sub-block: replaces d (no skip around it).
    Flow xa = new Conv2D(context, null, f[1], 3, 2, Activation.RELU, true, Initializer.GLOROT_UNIFORM).apply(d);
    xa = new BatchNormalization(context).apply(xa);
    long[] s = GraphContext.staticShape(xa.inference());
    Flow xs = ParameterFreeLayer.reshape(context, s[1] * s[2], s[3]).apply(xa);
    xs = TransformerBlock.apply(context, xs, config.lightHeads(), (int) s[3], config.lightFfDim(), config.lnEpsilon(),
        config.dropout());
    xa = ParameterFreeLayer.reshape(context, s[1], s[2], s[3]).apply(xs);
    xa = new Conv2DTranspose(context, f[1], 3, 2, Activation.RELU).apply(xa);
    xa = new BatchNormalization(context).apply(xa);
    d = xa;

    d = new Conv2DTranspose(context, f[0], 3, 2, Activation.RELU).apply(d);
    d = new BatchNormalization(context).apply(d);
    d = ParameterFreeLayer.concatenate(context).apply(d, e1);
    d = new Conv2D(context, f[0], 3, Activation.RELU).apply(d);
    d = new BatchNormalization(context).apply(d);
    d = Cbam.apply(context, d, ratio);
    return new Conv2D(context, headName, 1, 3, 1, Activation.SIGMOID, true, Initializer.GLOROT_UNIFORM).apply(d);
  }

  /** The config this graph was built from. */
  public ModelConfig config() {
    return config;
  }

  /** Input placeholder {@code input_img}, shape {@code [-1, 32, 32, 1]}, float32 in [0, 1]. */
  public Placeholder<TFloat32> input() {
    return input;
  }

  /**
   * Seed of the stateless dropout of the training branch, shape {@code [2]} int64; fed at every training step
   * (for example {@code [runSeed, step]}) so that a resumed run draws the same masks as an uninterrupted one.
   */
  public Placeholder<TInt64> dropoutSeed() {
    return context.dropoutSeedPlaceholder();
  }

  /** MNIST head {@code decoded1}, {@code [batch, 32, 32, 1]}: training branch if {@code training}, else inference. */
  public Operand<TFloat32> decoded1(boolean training) {
    return training ? decoded1.training() : decoded1.inference();
  }

  /** Fashion-MNIST head {@code decoded2}, {@code [batch, 32, 32, 1]}. */
  public Operand<TFloat32> decoded2(boolean training) {
    return training ? decoded2.training() : decoded2.inference();
  }

  /**
   * Ops that update every BatchNormalization's moving mean and variance from the training branch's batch
   * statistics (Keras 3 rule, biased variance); run them together with each training step.
   */
  public List<Op> batchNormUpdates() {
    return context.batchNormUpdates();
  }

  /** Every variable under its Keras path. */
  public VariableRegistry variables() {
    return registry;
  }

  /** Inference-branch output of every Keras layer, by Keras layer name (for layer-by-layer parity checks). */
  public Map<String, Operand<TFloat32>> layerOutputs() {
    return context.layerOutputs();
  }

  /** Keras layers in creation order, with output shapes and parameter counts (for {@code bss summary}). */
  public List<LayerInfo> layers() {
    return context.layers();
  }
}
