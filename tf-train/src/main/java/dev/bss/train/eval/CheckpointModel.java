package dev.bss.train.eval;

import dev.bss.model.ModelConfig;
import dev.bss.model.SeparationModel;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.loop.TrainingGraph;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * The inference branch of the network loaded from one of our checkpoint directories ({@code weights.npz} +
 * {@code model.json}) or a run folder (its {@code final/}, else {@code checkpoints/best/}, else the newest epoch).
 */
public final class CheckpointModel implements Evaluation.Predictor, AutoCloseable {

  private final Graph graph;
  private final Session session;
  private final SeparationModel model;
  private final Operand<TFloat32> decoded1;
  private final Operand<TFloat32> decoded2;
  private final Path dir;

  private CheckpointModel(Path dir, ConfigProto config) {
    this.dir = dir;
    ModelConfig modelConfig = Checkpoint.readConfig(dir);
    graph = new Graph();
    try {
      model = SeparationModel.build(Ops.create(graph), modelConfig);
      decoded1 = model.decoded1(false);
      decoded2 = model.decoded2(false);
      session = new Session(graph, config);
      model.variables().assign(session, Checkpoint.readWeights(dir));
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /** Resolves {@code path} (checkpoint dir or run folder) and loads it. */
  public static CheckpointModel open(Path path, ConfigProto config) {
    return new CheckpointModel(resolve(path), config);
  }

  /** The checkpoint directory a path names: itself, a run's final/, its best checkpoint or its newest epoch. */
  public static Path resolve(Path path) {
    if (Files.isRegularFile(path.resolve(Checkpoint.WEIGHTS))) {
      return path;
    }
    for (Path candidate : List.of(path.resolve("final"), path.resolve("checkpoints").resolve(Checkpoint.BEST))) {
      if (Files.isRegularFile(candidate.resolve(Checkpoint.WEIGHTS))) {
        return candidate;
      }
    }
    List<Path> epochs = Checkpoint.epochCheckpoints(path.resolve("checkpoints"));
    if (!epochs.isEmpty()) {
      return epochs.get(epochs.size() - 1);
    }
    throw new IllegalArgumentException("--model " + path + ": expected a checkpoint directory (weights.npz + "
        + "model.json) or a run folder (final/ or checkpoints/), found neither");
  }

  public String description() {
    return "checkpoint " + dir + " (" + (model.config().equals(ModelConfig.seed()) ? "seed config"
        : model.config().toMap().toString()) + ")";
  }

  @Override
  public float[][] predict(float[] mixtures, int count) {
    int chunk = 250;
    int pixels = TrainingGraph.PIXELS;
    float[] out1 = new float[count * pixels];
    float[] out2 = new float[count * pixels];
    for (int start = 0; start < count; start += chunk) {
      int n = Math.min(chunk, count - start);
      float[] slice = java.util.Arrays.copyOfRange(mixtures, start * pixels, (start + n) * pixels);
      try (TFloat32 input = TrainingGraph.images(slice, n);
          var result = session.runner().feed(model.input(), input).fetch(decoded1).fetch(decoded2).run()) {
        ((TFloat32) result.get(0)).copyTo(DataBuffers.of(out1, false, false).offset((long) start * pixels));
        ((TFloat32) result.get(1)).copyTo(DataBuffers.of(out2, false, false).offset((long) start * pixels));
      }
    }
    return new float[][] {out1, out2};
  }

  @Override
  public void close() {
    try {
      session.close();
    } finally {
      graph.close();
    }
  }
}
