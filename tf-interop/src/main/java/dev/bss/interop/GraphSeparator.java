package dev.bss.interop;

import dev.bss.model.ModelConfig;
import dev.bss.model.SeparationModel;
import dev.bss.model.WeightSet;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * A {@link Separator} over the Java network: builds {@link SeparationModel} once in its own graph, assigns the
 * weights (validated first, every problem in one message) and runs the inference branch.
 */
final class GraphSeparator implements Separator {

  private final Graph graph;
  private final Session session;
  private final SeparationModel model;
  private final String description;

  GraphSeparator(ModelConfig config, WeightSet weights, String description, ConfigProto sessionConfig) {
    this.graph = new Graph();
    try {
      this.model = SeparationModel.build(Ops.create(graph), config);
      this.session = sessionConfig == null ? new Session(graph) : new Session(graph, sessionConfig);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
    try {
      model.variables().assign(session, weights);
    } catch (RuntimeException e) {
      close();
      throw new IllegalArgumentException(description + ": " + e.getMessage(), e);
    }
    this.description = description;
  }

  @Override
  public SeparationResult separate(float[] mixtures, int count) {
    Separator.checkInput(mixtures, count);
    float[] d1 = new float[mixtures.length];
    float[] d2 = new float[mixtures.length];
    try (TFloat32 input = TFloat32.tensorOf(Shape.of(count, 32, 32, 1), DataBuffers.of(mixtures, true, false));
        Result r = session.runner().feed(model.input(), input).fetch(model.decoded1(false))
            .fetch(model.decoded2(false)).run()) {
      r.get(0).asRawTensor().data().asFloats().read(d1);
      r.get(1).asRawTensor().data().asFloats().read(d2);
    }
    return new SeparationResult(d1, d2);
  }

  /** The session's current weights (for conversions). */
  WeightSet weights() {
    return model.variables().read(session);
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public void close() {
    if (session != null) {
      session.close();
    }
    graph.close();
  }
}
