package dev.bss.model.layers;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Base of the layer ports: Keras's split of a layer into construction (auto name), {@code build} (weights, created
 * on the first call from the input shapes, in Keras's order) and {@code call} (ops for one branch).
 *
 * <p>Each {@link #apply} builds the layer's ops twice, once for the training branch and once for the inference
 * branch, over the same variables.
 */
public abstract class KerasLayer {

  protected final GraphContext context;
  private final String name;
  private final String kerasClass;
  private boolean built;
  private long parameters;

  /**
   * @param snakeCaseClass Keras's auto-name prefix, e.g. {@code conv2d_transpose}
   * @param explicitName a name given in the Keras script (no counter consumed), or null for the auto name
   */
  protected KerasLayer(GraphContext context, String kerasClass, String snakeCaseClass, String explicitName) {
    this.context = context;
    this.kerasClass = kerasClass;
    this.name = explicitName != null ? explicitName : context.autoName(snakeCaseClass);
  }

  /** Keras layer name. */
  public final String name() {
    return name;
  }

  /** Keras class name. */
  public final String kerasClass() {
    return kerasClass;
  }

  /** Number of Keras weight values of this layer. */
  public final long parameters() {
    return parameters;
  }

  /** Calls the layer on Keras tensors (both branches); builds its weights on the first call. */
  public final Flow apply(Flow... inputs) {
    List<long[]> shapes = new ArrayList<>();
    for (Flow f : inputs) {
      shapes.add(GraphContext.staticShape(f.inference()));
    }
    if (!built) {
      build(shapes);
      built = true;
    } else {
      validate(shapes);
    }
    return context.call(name, kerasClass, parameters, List.of(inputs), (ops, training) -> {
      List<Operand<TFloat32>> branchInputs = new ArrayList<>();
      for (Flow f : inputs) {
        branchInputs.add(training ? f.training() : f.inference());
      }
      return call(ops, branchInputs, training);
    });
  }

  /** Validates the input shapes and creates the weights (Keras {@code build}); the default only validates. */
  protected void build(List<long[]> inputShapes) {
    validate(inputShapes);
  }

  /** Throws {@link IllegalArgumentException} naming the layer when the inputs do not fit. */
  protected void validate(List<long[]> inputShapes) {}

  /** Ops of one branch. */
  protected abstract Operand<TFloat32> call(Ops ops, List<Operand<TFloat32>> inputs, boolean training);

  /** Creates and registers a weight {@code <layer name>/<variableName>}. */
  protected final Variable<TFloat32> addWeight(String variableName, long[] shape, boolean trainable,
      Initializer initializer) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    parameters += n;
    return context.variable(name, kerasClass, name + "/" + variableName, shape, trainable, true, initializer);
  }

  protected final IllegalArgumentException inputError(String expected, long[] found) {
    return GraphContext.shapeError(name, kerasClass, expected, found);
  }

  /** Reshape to a static shape whose first dimension is the batch. */
  protected static Operand<TFloat32> reshape(Ops ops, Operand<TFloat32> x, long... shapeWithoutBatch) {
    long[] target = new long[shapeWithoutBatch.length + 1];
    target[0] = -1;
    System.arraycopy(shapeWithoutBatch, 0, target, 1, shapeWithoutBatch.length);
    return ops.reshape(x, ops.constant(target));
  }

  protected static long last(long[] shape) {
    return shape[shape.length - 1];
  }
}
