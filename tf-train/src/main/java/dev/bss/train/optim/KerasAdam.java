package dev.bss.train.optim;

import dev.bss.model.Weight;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Keras 3's Adam, written in graph ops with an explicit order: every weight update reads the gradients of this step
 * only, and the iteration counter increments after all of them.
 *
 * <p>Ports {@code keras.optimizers.Adam} (no amsgrad, no weight decay, no clipping), per variable at
 * {@code t = iterations + 1}: {@code alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)},
 * {@code m += (g - m) * (1 - beta_1)}, {@code v += (g^2 - v) * (1 - beta_2)},
 * {@code w -= m * alpha / (sqrt(v) + epsilon)}.
 *
 * <p>The slots of all variables live in two flat VariableV2 ({@code m} and {@code v}, one value per weight value,
 * starting at zero): the gradients are concatenated once, the element-wise update runs as a few large ops, and its
 * result is split back onto the variables. Each value goes through the same float32 operations in the same order as
 * Keras's per-variable update, so the results are the same bit for bit; the step has about a fifth of the nodes of
 * a per-variable graph (TensorFlow's per-node cost is paid once per op, not per value).
 */
public final class KerasAdam {

  /** Keras default beta_1. */
  public static final float BETA_1 = 0.9f;
  /** Keras default beta_2. */
  public static final float BETA_2 = 0.999f;
  /** Keras default epsilon (not TensorFlow's 1e-8). */
  public static final float EPSILON = 1e-7f;

  /** Key of the step counter in {@link #read(Session)}. */
  public static final String ITERATIONS = "iterations";

  private final List<String> names;
  private final List<long[]> shapes;
  private final long[] offsets;
  private final int total;
  private final Slot momentum;
  private final Slot velocity;
  private final Variable<TInt64> iterations;
  private final Placeholder<TInt64> iterationsFeed;
  private final Assign<TInt64> iterationsAssign;
  private final Op step;
  private final Op reset;

  private record Slot(Variable<TFloat32> variable, Placeholder<TFloat32> feed, Assign<TFloat32> assign) {}

  private KerasAdam(Ops tf, List<String> names, List<Variable<TFloat32>> variables, List<long[]> shapes,
      List<? extends Operand<TFloat32>> gradients, Operand<TFloat32> learningRate, List<Op> before) {
    if (names.size() != variables.size() || variables.size() != gradients.size() || shapes.size() != names.size()) {
      throw new IllegalArgumentException("KerasAdam: " + names.size() + " names, " + variables.size()
          + " variables, " + shapes.size() + " shapes and " + gradients.size() + " gradients do not match");
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException("KerasAdam: expected at least one variable, found none");
    }
    this.names = List.copyOf(names);
    this.shapes = shapes.stream().map(long[]::clone).toList();
    offsets = new long[names.size() + 1];
    long[] sizes = new long[names.size()];
    for (int i = 0; i < names.size(); i++) {
      sizes[i] = elements(shapes.get(i));
      offsets[i + 1] = offsets[i] + sizes[i];
    }
    total = Math.toIntExact(offsets[names.size()]);
    Ops opt = tf.withSubScope("keras_adam");
    iterations = opt.withName("iterations").variable(Shape.scalar(), TInt64.class);
    iterationsFeed = opt.withName("iterations_feed").placeholder(TInt64.class,
        Placeholder.shape(Shape.scalar()));
    iterationsAssign = opt.withName("iterations_assign").assign(iterations, iterationsFeed);
    List<Op> resets = new ArrayList<>();
    resets.add(opt.assign(iterations, opt.constant(0L)));
    momentum = slot(opt, "momentum", total, resets);
    velocity = slot(opt, "velocity", total, resets);
    reset = opt.withControlDependencies(resets).withName("reset").noOp();

    // Every gradient (hence every read of a weight by the backward pass) is an input of the concatenation, and the
    // updates depend on it: no weight changes before all gradients exist (VariableV2 reads alias the buffer, so an
    // early update would leak into other gradients), nor before the ops in `before`.
    Ops ordered = before.isEmpty() ? opt : opt.withControlDependencies(before);
    Operand<TInt64> flat = ordered.constant(new long[] {-1});
    List<Operand<TFloat32>> flatGradients = new ArrayList<>();
    for (Operand<TFloat32> g : gradients) {
      flatGradients.add(ordered.reshape(g, flat));
    }
    Operand<TFloat32> g = flatGradients.size() == 1 ? flatGradients.get(0)
        : ordered.withName("gradients").concat(flatGradients, ordered.constant(0));
    Operand<TFloat32> t = ordered.dtypes.cast(ordered.math.add(iterations, ordered.constant(1L)), TFloat32.class);
    Operand<TFloat32> beta1Power = ordered.math.pow(ordered.constant(BETA_1), t);
    Operand<TFloat32> beta2Power = ordered.math.pow(ordered.constant(BETA_2), t);
    Operand<TFloat32> one = ordered.constant(1f);
    Operand<TFloat32> alpha = ordered.math.div(
        ordered.math.mul(learningRate, ordered.math.sqrt(ordered.math.sub(one, beta2Power))),
        ordered.math.sub(one, beta1Power));
    // Keras multiplies by the Python floats 1 - 0.9 and 1 - 0.999 cast to float32.
    Operand<TFloat32> oneMinusBeta1 = ordered.constant((float) (1.0 - 0.9));
    Operand<TFloat32> oneMinusBeta2 = ordered.constant((float) (1.0 - 0.999));
    Operand<TFloat32> epsilon = ordered.constant(EPSILON);
    Variable<TFloat32> m = momentum.variable();
    Variable<TFloat32> v = velocity.variable();
    Operand<TFloat32> mNew = ordered.assignAdd(m, ordered.math.mul(ordered.math.sub(g, m), oneMinusBeta1));
    Operand<TFloat32> vNew = ordered.assignAdd(v,
        ordered.math.mul(ordered.math.sub(ordered.math.square(g), v), oneMinusBeta2));
    Operand<TFloat32> update = ordered.withName("update").math.div(ordered.math.mul(mNew, alpha),
        ordered.math.add(ordered.math.sqrt(vNew), epsilon));
    var pieces = ordered.splitV(update, ordered.constant(sizes), ordered.constant(0), (long) names.size());
    List<Op> updates = new ArrayList<>();
    for (int i = 0; i < variables.size(); i++) {
      @SuppressWarnings("unchecked")
      Operand<TFloat32> piece = (Operand<TFloat32>) (Operand<?>) pieces.output().get(i);
      updates.add(ordered.assignSub(variables.get(i), ordered.reshape(piece, ordered.constant(shapes.get(i)))));
    }
    // Keras increments iterations after applying every update of the step.
    Op increment = opt.withControlDependencies(updates).assignAdd(iterations, opt.constant(1L));
    step = opt.withControlDependencies(List.of(increment)).withName("step").noOp();
  }

  private static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("KerasAdam: expected a static shape, found " + Arrays.toString(shape));
      }
      n *= d;
    }
    return n;
  }

  private static Slot slot(Ops tf, String name, int size, List<Op> resets) {
    Variable<TFloat32> variable = tf.withName(name).variable(Shape.of(size), TFloat32.class);
    Placeholder<TFloat32> feed = tf.withName(name + "_feed").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(size)));
    Assign<TFloat32> assign = tf.withName(name + "_assign").assign(variable, feed);
    resets.add(tf.assign(variable, tf.zeros(tf.constant(new long[] {size}), TFloat32.class)));
    return new Slot(variable, feed, assign);
  }

  /**
   * Builds the optimizer for {@code variables} (named by {@code names}, e.g. Keras paths) given their gradients.
   *
   * @param learningRate scalar float32, usually a placeholder fed at each step (callbacks change it per epoch)
   * @param before ops that must finish before any weight changes (e.g. the loss)
   */
  public static KerasAdam build(Ops tf, List<String> names, List<Variable<TFloat32>> variables, List<long[]> shapes,
      List<? extends Operand<TFloat32>> gradients, Operand<TFloat32> learningRate, List<Op> before) {
    return new KerasAdam(tf, names, variables, shapes, gradients, learningRate, before);
  }

  /** One training step: updates every variable and its slots, then increments {@code iterations}. */
  public Op step() {
    return step;
  }

  /** Sets the slots and {@code iterations} to zero (a fresh optimizer). */
  public Op reset() {
    return reset;
  }

  /** Reads {@code iterations} from the session. */
  public long iterations(Session session) {
    try (var result = session.runner().fetch(iterations).run()) {
      return ((TInt64) result.get(0)).getLong();
    }
  }

  /**
   * Reads the state: {@code m/<name>}, {@code v/<name>} slots (each of its variable's shape) and
   * {@value #ITERATIONS} (a float32 scalar, exact up to 2^24 steps).
   */
  public Map<String, Weight> read(Session session) {
    Map<String, Weight> state = new LinkedHashMap<>();
    float[] m = new float[total];
    float[] v = new float[total];
    long it;
    try (var result = session.runner().fetch(momentum.variable()).fetch(velocity.variable()).fetch(iterations)
        .run()) {
      ((TFloat32) result.get(0)).copyTo(DataBuffers.of(m, false, false));
      ((TFloat32) result.get(1)).copyTo(DataBuffers.of(v, false, false));
      it = ((TInt64) result.get(2)).getLong();
    }
    for (int i = 0; i < names.size(); i++) {
      int from = (int) offsets[i];
      int to = (int) offsets[i + 1];
      state.put("m/" + names.get(i), new Weight(shapes.get(i), Arrays.copyOfRange(m, from, to)));
      state.put("v/" + names.get(i), new Weight(shapes.get(i), Arrays.copyOfRange(v, from, to)));
    }
    state.put(ITERATIONS, new Weight(new long[0], new float[] {it}));
    return state;
  }

  /**
   * Restores a state written by {@link #read(Session)}.
   *
   * @throws IllegalArgumentException listing every missing or mis-shaped slot; nothing is assigned then
   */
  public void assign(Session session, Map<String, Weight> state) {
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      check(problems, state, "m/" + names.get(i), shapes.get(i));
      check(problems, state, "v/" + names.get(i), shapes.get(i));
    }
    check(problems, state, ITERATIONS, new long[0]);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("optimizer state: " + String.join("; ", problems));
    }
    float[] m = new float[total];
    float[] v = new float[total];
    for (int i = 0; i < names.size(); i++) {
      int size = (int) (offsets[i + 1] - offsets[i]);
      System.arraycopy(state.get("m/" + names.get(i)).data(), 0, m, (int) offsets[i], size);
      System.arraycopy(state.get("v/" + names.get(i)).data(), 0, v, (int) offsets[i], size);
    }
    try (TFloat32 mt = TFloat32.tensorOf(Shape.of(total), DataBuffers.of(m, true, false));
        TFloat32 vt = TFloat32.tensorOf(Shape.of(total), DataBuffers.of(v, true, false));
        TInt64 it = TInt64.scalarOf((long) state.get(ITERATIONS).data()[0])) {
      session.runner().feed(momentum.feed(), mt).addTarget(momentum.assign())
          .feed(velocity.feed(), vt).addTarget(velocity.assign())
          .feed(iterationsFeed, it).addTarget(iterationsAssign)
          .run().close();
    }
  }

  private static void check(List<String> problems, Map<String, Weight> state, String key, long[] shape) {
    Weight w = state.get(key);
    if (w == null) {
      problems.add(key + ": missing");
    } else if (!Arrays.equals(w.shape(), shape)) {
      problems.add(key + ": expected " + Arrays.toString(shape) + ", found " + w.shapeString());
    }
  }

}
