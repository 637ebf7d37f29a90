package dev.bss.model;

import dev.bss.model.layers.Initializer;
import dev.bss.model.layers.Initializers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * Every variable of a {@link SeparationModel} under its Keras path, in Keras's creation order (the order the Keras
 * script builds its layers: encoder, bottleneck, then all of decoder 1, then all of decoder 2), with the frozen
 * {@code pos_embedding} after the bottleneck's {@code dense}.
 */
public final class VariableRegistry {

  private final List<ModelVariable> variables;
  private final Map<String, ModelVariable> byPath = new LinkedHashMap<>();
  private final Map<String, Initializer> initializers = new LinkedHashMap<>();

  VariableRegistry(List<ModelVariable> variables, List<Initializer> initializers) {
    this.variables = List.copyOf(variables);
    for (int i = 0; i < variables.size(); i++) {
      ModelVariable v = variables.get(i);
      if (byPath.put(v.path(), v) != null) {
        throw new IllegalStateException("two variables at Keras path " + v.path());
      }
      this.initializers.put(v.path(), initializers.get(i));
    }
  }

  /** All variables, Keras creation order; the position embedding ({@link WeightSet#POSITION_EMBEDDING}) is included. */
  public List<ModelVariable> all() {
    return variables;
  }

  /** The variables the optimizer trains. */
  public List<ModelVariable> trainable() {
    return variables.stream().filter(ModelVariable::trainable).toList();
  }

  /** The variable at a Keras path; IllegalArgumentException naming the path if there is none. */
  public ModelVariable get(String path) {
    ModelVariable v = byPath.get(path);
    if (v == null) {
      throw new IllegalArgumentException("no model variable at Keras path '" + path + "'");
    }
    return v;
  }

  /** Whether a variable exists at {@code path}. */
  public boolean contains(String path) {
    return byPath.containsKey(path);
  }

  /** The Keras initializer of the variable at {@code path}. */
  public Initializer initializer(String path) {
    get(path);
    return initializers.get(path);
  }

  /** Every variable's Keras path and shape, in creation order. */
  public Map<String, long[]> expectedShapes() {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    variables.forEach(v -> shapes.put(v.path(), v.shape()));
    return shapes;
  }


  /**
   * Validates {@code weights} against every variable, then assigns them all in one session run.
   *
   * @throws IllegalArgumentException listing at once every missing, unexpected, mis-shaped or non-finite weight
   *     (e.g. {@code conv2d_transpose_3/kernel: expected [3, 3, 64, 128], found [3, 3, 128, 64]}); nothing is assigned
   */
  public void assign(Session session, WeightSet weights) {
    WeightValidation.require(expectedShapes(), weights, "weights", "the model's variables");
    List<Tensor> tensors = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (ModelVariable v : variables) {
        Weight w = weights.get(v.path());
        TFloat32 t = TFloat32.tensorOf(Shape.of(v.shape()), DataBuffers.of(w.data(), true, false));
        tensors.add(t);
        runner.feed(v.feed(), t).addTarget(v.assign());
      }
      runner.run();
    } finally {
      tensors.forEach(Tensor::close);
    }
  }

  /** Reads every variable's current value, in {@link #all()} order. */
  public WeightSet read(Session session) {
    Session.Runner runner = session.runner();
    for (ModelVariable v : variables) {
      runner.fetch(v.variable());
    }
    WeightSet out = new WeightSet();
    try (var result = runner.run()) {
      for (int i = 0; i < variables.size(); i++) {
        ModelVariable v = variables.get(i);
        TFloat32 t = (TFloat32) result.get(i);
        float[] data = new float[Math.toIntExact(v.size())];
        t.asRawTensor().data().asFloats().read(data);
        out.put(v.path(), new Weight(v.shape(), data));
      }
    }
    return out;
  }

  /**
   * Keras-initialized values (glorot_uniform kernels, he_normal in CBAM, zero biases, BN/LN ones and zeros, and a
   * N(0, 1) position embedding), computed in Java from {@code seed}: the same seed gives the same values. The
   * distributions and fan rules are Keras's; the random streams are not (see {@link Initializers}).
   */
  public WeightSet initialValues(long seed) {
    WeightSet out = new WeightSet();
    for (ModelVariable v : variables) {
      out.put(v.path(), new Weight(v.shape(), Initializers.values(initializers.get(v.path()), v.shape(), seed,
          v.path())));
    }
    return out;
  }

  /** Keras's total parameter count (position embedding excluded unless trainable). */
  public long parameterCount() {
    return variables.stream().filter(v -> v.kerasWeight() || v.trainable()).mapToLong(ModelVariable::size).sum();
  }

  /** Keras's trainable parameter count. */
  public long trainableParameterCount() {
    return variables.stream().filter(ModelVariable::trainable).mapToLong(ModelVariable::size).sum();
  }

  /** Keras's non-trainable parameter count (BN moving statistics). */
  public long nonTrainableParameterCount() {
    return variables.stream().filter(v -> v.kerasWeight() && !v.trainable()).mapToLong(ModelVariable::size).sum();
  }

  /** Variables in an unmodifiable map by Keras path, {@link #all()} order. */
  public Map<String, ModelVariable> asMap() {
    return Collections.unmodifiableMap(byPath);
  }
}
