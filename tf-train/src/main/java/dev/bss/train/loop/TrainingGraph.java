package dev.bss.train.loop;

import dev.bss.model.ModelConfig;
import dev.bss.model.ModelVariable;
import dev.bss.model.SeparationModel;
import dev.bss.model.VariableRegistry;
import dev.bss.interop.Separation;
import dev.bss.interop.SeparationResult;
import dev.bss.model.WeightSet;
import dev.bss.train.data.Batch;
import dev.bss.train.optim.KerasAdam;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The whole training graph, built once: the model, the loss {@code MSE(decoded1) + MSE(decoded2)} (each the mean
 * over every element of the batch, Keras's {@code sum_over_batch_size}), the gradients of the trainable variables,
 * the Keras Adam step, the BatchNormalization moving-statistics updates and a fed learning rate.
 *
 * <p>Inputs: mixture and both targets {@code [batch, 32, 32, 1]}, learning rate (scalar), dropout seed
 * {@code [2]} int64. Ports Keras's {@code Model.fit} train step for {@code model.compile(Adam(), loss=['mse','mse'])}.
 */
public final class TrainingGraph implements Separation, AutoCloseable {

  /** Values of one image. */
  public static final int PIXELS = ModelConfig.IMAGE_SIZE * ModelConfig.IMAGE_SIZE;

  private final Graph graph;
  private final Session session;
  private final SeparationModel model;
  private final Placeholder<TFloat32> mnistTarget;
  private final Placeholder<TFloat32> fashionTarget;
  private final Placeholder<TFloat32> learningRate;
  private final Operand<TFloat32> loss;
  private final Operand<TFloat32> decoded1Loss;
  private final Operand<TFloat32> decoded2Loss;
  private final Operand<TFloat32> inference1;
  private final Operand<TFloat32> inference2;
  private final KerasAdam adam;
  private final List<Op> stepTargets;
  private final List<Operand<TFloat32>> gradients;

  /** Per-head and total loss of one step (the values before that step's update, as Keras logs them). */
  public record StepLoss(float loss, float decoded1Loss, float decoded2Loss) {
    public boolean finite() {
      return Float.isFinite(loss) && Float.isFinite(decoded1Loss) && Float.isFinite(decoded2Loss);
    }
  }

  /** Builds the graph and opens a session with {@code sessionConfig} (threads, devices, precision). */
  public TrainingGraph(ModelConfig config, ConfigProto sessionConfig) {
    graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      model = SeparationModel.build(tf, config,
          Shape.of(-1, ModelConfig.IMAGE_SIZE, ModelConfig.IMAGE_SIZE, 1));
      Ops train = tf.withSubScope("training");
      Shape image = Shape.of(-1, ModelConfig.IMAGE_SIZE, ModelConfig.IMAGE_SIZE, 1);
      mnistTarget = train.withName("mnist_target").placeholder(TFloat32.class, Placeholder.shape(image));
      fashionTarget = train.withName("fashion_target").placeholder(TFloat32.class, Placeholder.shape(image));
      learningRate = train.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      decoded1Loss = meanSquaredError(train, model.decoded1(true), mnistTarget, "decoded1_loss");
      decoded2Loss = meanSquaredError(train, model.decoded2(true), fashionTarget, "decoded2_loss");
      loss = train.withName("loss").math.add(decoded1Loss, decoded2Loss);
      inference1 = model.decoded1(false);
      inference2 = model.decoded2(false);

      VariableRegistry registry = model.variables();
      List<String> names = new ArrayList<>();
      List<Variable<TFloat32>> variables = new ArrayList<>();
      List<long[]> shapes = new ArrayList<>();
      for (ModelVariable v : registry.trainable()) {
        names.add(v.path());
        variables.add(v.variable());
        shapes.add(v.shape());
      }
      var grads = train.gradients(loss, variables);
      gradients = new ArrayList<>();
      for (int i = 0; i < variables.size(); i++) {
        @SuppressWarnings("unchecked")
        Operand<TFloat32> g = (Operand<TFloat32>) (Operand<?>) grads.dy(i);
        gradients.add(g);
      }
      // The BN moving statistics read batch statistics of this step's forward pass; the weight updates wait for
      // them and for the loss, so every value fetched or stored belongs to the weights before the update.
      List<Op> before = new ArrayList<>(model.batchNormUpdates());
      before.add(train.identity(loss));
      adam = KerasAdam.build(train, names, variables, shapes, gradients, learningRate, before);
      stepTargets = new ArrayList<>(model.batchNormUpdates());
      stepTargets.add(adam.step());
      session = new Session(graph, sessionConfig);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  private static Operand<TFloat32> meanSquaredError(Ops tf, Operand<TFloat32> prediction, Operand<TFloat32> target,
      String name) {
    Operand<TFloat32> squared = tf.math.squaredDifference(prediction, target);
    return tf.withName(name).math.mean(squared, tf.constant(new int[] {0, 1, 2, 3}));
  }

  public SeparationModel model() {
    return model;
  }

  public Session session() {
    return session;
  }

  public Graph graph() {
    return graph;
  }

  public KerasAdam optimizer() {
    return adam;
  }

  /** Total loss operand (training branch), for gradient checks. */
  public Operand<TFloat32> lossOperand() {
    return loss;
  }

  /** Gradients of the trainable variables, in {@link VariableRegistry#trainable()} order. */
  public List<Operand<TFloat32>> gradients() {
    return List.copyOf(gradients);
  }

  public Placeholder<TFloat32> mnistTarget() {
    return mnistTarget;
  }

  public Placeholder<TFloat32> fashionTarget() {
    return fashionTarget;
  }

  /** Assigns the model weights and resets the optimizer (slots zero, iterations 0). */
  public void initialize(WeightSet weights) {
    model.variables().assign(session, weights);
    session.runner().addTarget(adam.reset()).run().close();
  }

  /** Runs one training step on a batch; returns the losses of the weights before the update. */
  public StepLoss step(Batch batch, float lr, long[] dropoutSeed) {
    return runLosses(batch, lr, dropoutSeed, true);
  }

  /** The inference branch's outputs for {@code count} mixtures, in one run ({@link #separateAll} chunks). */
  @Override
  public SeparationResult separate(float[] mixtures, int count) {
    float[] out1 = new float[count * PIXELS];
    float[] out2 = new float[count * PIXELS];
    try (TFloat32 input = images(mixtures, count);
        var result = session.runner().feed(model.input(), input).fetch(inference1).fetch(inference2).run()) {
      ((TFloat32) result.get(0)).copyTo(DataBuffers.of(out1, false, false));
      ((TFloat32) result.get(1)).copyTo(DataBuffers.of(out2, false, false));
    }
    return new SeparationResult(out1, out2);
  }

  /** Mean losses of the training branch for a batch without updating anything (dropout seeded). */
  public StepLoss lossOnly(Batch batch, long[] dropoutSeed) {
    return runLosses(batch, 0f, dropoutSeed, false);
  }

  /** Feeds a batch to the training branch and fetches its losses; with {@code update}, also runs the step. */
  private StepLoss runLosses(Batch batch, float lr, long[] dropoutSeed, boolean update) {
    List<Tensor> tensors = new ArrayList<>();
    try {
      try (var result = stepRunner(batch, lr, dropoutSeed, update, tensors).run()) {
        return new StepLoss(((TFloat32) result.get(0)).getFloat(), ((TFloat32) result.get(1)).getFloat(),
            ((TFloat32) result.get(2)).getFloat());
      }
    } finally {
      tensors.forEach(Tensor::close);
    }
  }

  /**
   * A runner of one step (or, without {@code update}, of the losses only) on a batch, fetching loss, decoded1_loss
   * and decoded2_loss. The batch's own tensors are fed as they are (no copy); the other fed tensors are added to
   * {@code tensors}, which the caller closes after the run (the benchmark's profiler runs it traced).
   */
  public Session.Runner stepRunner(Batch batch, float lr, long[] dropoutSeed, boolean update, List<Tensor> tensors) {
    Session.Runner runner = session.runner();
    runner.feed(model.input(), batch.mixtureTensor());
    runner.feed(mnistTarget, batch.mnistTensor());
    runner.feed(fashionTarget, batch.fashionTensor());
    runner.feed(model.dropoutSeed(), track(tensors, TInt64.vectorOf(dropoutSeed)));
    runner.fetch(loss).fetch(decoded1Loss).fetch(decoded2Loss);
    if (update) {
      runner.feed(learningRate, track(tensors, TFloat32.scalarOf(lr)));
      stepTargets.forEach(runner::addTarget);
    }
    return runner;
  }

  /** A float32 tensor {@code [count, 32, 32, 1]} over a copy of {@code values}. */
  public static TFloat32 images(float[] values, int count) {
    return TFloat32.tensorOf(Shape.of(count, ModelConfig.IMAGE_SIZE, ModelConfig.IMAGE_SIZE, 1),
        DataBuffers.of(values, true, false).narrow((long) count * PIXELS));
  }

  private static <T extends Tensor> T track(List<Tensor> tensors, T tensor) {
    tensors.add(tensor);
    return tensor;
  }

  @Override
  public void close() {
    try {
      if (session != null) {
        session.close();
      }
    } finally {
      graph.close();
    }
  }
}
