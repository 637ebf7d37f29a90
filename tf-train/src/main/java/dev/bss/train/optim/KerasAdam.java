package dev.bss.train.optim;

import dev.bss.model.Weight;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Keras 3's Adam, written in graph ops with an explicit order: every weight update reads the gradients of this step
 * only, and the iteration counter increments after all of them.
 *
 * <p>Ports {@code keras.optimizers.Adam} (no amsgrad, no weight decay, no clipping), per variable at
 * {@code t = iterations + 1}: {@code alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)},
 * {@code m += (g - m) * (1 - beta_1)}, {@code v += (g^2 - v) * (1 - beta_2)},
 * {@code w -= m * alpha / (sqrt(v) + epsilon)}. Slots are VariableV2 of the variable's shape, starting at zero.
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
  private final List<Slot> momentum = new ArrayList<>();
  private final List<Slot> velocity = new ArrayList<>();
  private final Variable<TInt64> iterations;
  private final Placeholder<TInt64> iterationsFeed;
  private final Assign<TInt64> iterationsAssign;
  private final Op step;
  private final Op reset;

  private record Slot(long[] shape, Variable<TFloat32> variable, Placeholder<TFloat32> feed, Assign<TFloat32> assign) {}

  private KerasAdam(Ops tf, List<String> names, List<Variable<TFloat32>> variables, List<long[]> shapes,
      List<? extends Operand<TFloat32>> gradients, Operand<TFloat32> learningRate, List<Op> before) {
    if (names.size() != variables.size() || variables.size() != gradients.size() || shapes.size() != names.size()) {
      throw new IllegalArgumentException("KerasAdam: " + names.size() + " names, " + variables.size()
          + " variables, " + shapes.size() + " shapes and " + gradients.size() + " gradients do not match");
    }
    this.names = List.copyOf(names);
    Ops opt = tf.withSubScope("keras_adam");
    iterations = opt.withName("iterations").variable(Shape.scalar(), TInt64.class);
    iterationsFeed = opt.withName("iterations_feed").placeholder(TInt64.class,
        Placeholder.shape(Shape.scalar()));
    iterationsAssign = opt.withName("iterations_assign").assign(iterations, iterationsFeed);
    List<Op> resets = new ArrayList<>();
    resets.add(opt.assign(iterations, opt.constant(0L)));
    for (int i = 0; i < variables.size(); i++) {
      String base = "slot_" + i;
      momentum.add(slot(opt, base + "_momentum", shapes.get(i), resets));
      velocity.add(slot(opt, base + "_velocity", shapes.get(i), resets));
    }
    reset = opt.withControlDependencies(resets).withName("reset").noOp();

    // Every gradient (hence every read of a weight by the backward pass) must be computed before the first
    // weight changes: VariableV2 reads alias the buffer, so an early update would leak into other gradients.
    List<Op> gradientsReady = new ArrayList<>(before);
    for (Operand<TFloat32> g : gradients) {
      gradientsReady.add(opt.identity(g));
    }
    Ops ordered = opt.withControlDependencies(gradientsReady);
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
    List<Op> updates = new ArrayList<>();
    for (int i = 0; i < variables.size(); i++) {
      // Keras keeps the optimizer in float32 under mixed_bfloat16. Grappler's bf16 rewrite would otherwise paint
      // (g - m) * (1 - beta_1) bf16 wherever g comes from a bf16 kernel; a Bitcast pair (same bits, no copy) is an
      // op the rewrite leaves alone, so every update below stays float32.
      Operand<TFloat32> g = ordered.bitcast(ordered.bitcast(gradients.get(i), TInt32.class), TFloat32.class);
      Variable<TFloat32> m = momentum.get(i).variable();
      Variable<TFloat32> v = velocity.get(i).variable();
      Operand<TFloat32> mNew = ordered.assignAdd(m, ordered.math.mul(ordered.math.sub(g, m), oneMinusBeta1));
      Operand<TFloat32> vNew = ordered.assignAdd(v,
          ordered.math.mul(ordered.math.sub(ordered.math.square(g), v), oneMinusBeta2));
      updates.add(ordered.assignSub(variables.get(i),
          ordered.math.div(ordered.math.mul(mNew, alpha), ordered.math.add(ordered.math.sqrt(vNew), epsilon))));
    }
    // Keras increments iterations after applying every update of the step.
    Op increment = opt.withControlDependencies(updates).assignAdd(iterations, opt.constant(1L));
    step = opt.withControlDependencies(List.of(increment)).withName("step").noOp();
  }

  private static Slot slot(Ops tf, String name, long[] shape, List<Op> resets) {
    Variable<TFloat32> variable = tf.withName(name).variable(Shape.of(shape), TFloat32.class);
    Placeholder<TFloat32> feed = tf.withName(name + "_feed").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(shape)));
    Assign<TFloat32> assign = tf.withName(name + "_assign").assign(variable, feed);
    resets.add(tf.assign(variable, tf.zeros(tf.constant(shape), TFloat32.class)));
    return new Slot(shape.clone(), variable, feed, assign);
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
   * Reads the state: {@code m/<name>}, {@code v/<name>} slots and {@value #ITERATIONS} (a float32 scalar,
   * exact up to 2^24 steps).
   */
  public Map<String, Weight> read(Session session) {
    Map<String, Weight> state = new LinkedHashMap<>();
    Session.Runner runner = session.runner();
    for (int i = 0; i < names.size(); i++) {
      runner.fetch(momentum.get(i).variable()).fetch(velocity.get(i).variable());
    }
    runner.fetch(iterations);
    try (var result = runner.run()) {
      for (int i = 0; i < names.size(); i++) {
        state.put("m/" + names.get(i), toWeight(momentum.get(i).shape(), (TFloat32) result.get(2 * i)));
        state.put("v/" + names.get(i), toWeight(velocity.get(i).shape(), (TFloat32) result.get(2 * i + 1)));
      }
      long it = ((TInt64) result.get(2 * names.size())).getLong();
      state.put(ITERATIONS, new Weight(new long[0], new float[] {it}));
    }
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
      check(problems, state, "m/" + names.get(i), momentum.get(i).shape());
      check(problems, state, "v/" + names.get(i), velocity.get(i).shape());
    }
    check(problems, state, ITERATIONS, new long[0]);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("optimizer state: " + String.join("; ", problems));
    }
    List<Tensor> tensors = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (int i = 0; i < names.size(); i++) {
        feed(runner, tensors, momentum.get(i), state.get("m/" + names.get(i)));
        feed(runner, tensors, velocity.get(i), state.get("v/" + names.get(i)));
      }
      TInt64 it = TInt64.scalarOf((long) state.get(ITERATIONS).data()[0]);
      tensors.add(it);
      runner.feed(iterationsFeed, it).addTarget(iterationsAssign);
      runner.run().close();
    } finally {
      tensors.forEach(Tensor::close);
    }
  }

  private static void feed(Session.Runner runner, List<Tensor> tensors, Slot slot, Weight w) {
    TFloat32 t = TFloat32.tensorOf(Shape.of(slot.shape()), DataBuffers.of(w.data(), true, false));
    tensors.add(t);
    runner.feed(slot.feed(), t).addTarget(slot.assign());
  }

  private static void check(List<String> problems, Map<String, Weight> state, String key, long[] shape) {
    Weight w = state.get(key);
    if (w == null) {
      problems.add(key + ": missing");
    } else if (!java.util.Arrays.equals(w.shape(), shape)) {
      problems.add(key + ": expected " + java.util.Arrays.toString(shape) + ", found " + w.shapeString());
    }
  }

  private static Weight toWeight(long[] shape, TFloat32 tensor) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] data = new float[Math.toIntExact(n)];
    tensor.copyTo(DataBuffers.of(data, false, false));
    return new Weight(shape, data);
  }
}
