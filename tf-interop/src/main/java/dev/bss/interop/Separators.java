package dev.bss.interop;

import dev.bss.interop.savedmodel.SavedModelRunner;
import dev.bss.model.ModelConfig;
import dev.bss.model.Weight;
import java.nio.file.Path;
import org.tensorflow.proto.ConfigProto;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Opens any supported model file as a {@link Separator}. */
public final class Separators {

  private Separators() {}

  /** Our network with Keras-initialized weights drawn from {@code seed} (benchmarks, smoke tests). */
  public static Separator initialWeights(ModelConfig config, long seed) {
    dev.bss.model.WeightSet weights;
    try (org.tensorflow.Graph scratch = new org.tensorflow.Graph()) {
      weights = dev.bss.model.SeparationModel.build(org.tensorflow.op.Ops.create(scratch), config).variables()
          .initialValues(seed);
    }
    return new GraphSeparator(config, weights, "initial weights (seed " + seed + ")", null);
  }

  /** Opens a model in any format (see {@link ModelFiles}); the config comes from the file or its weights. */
  public static Separator open(Path model) {
    return open(model, null, null);
  }

  /**
   * Opens a model in any format.
   *
   * @param config overrides the file's config (null: none)
   * @param positionEmbeddingNpy the position embedding for a Keras {@code .weights.h5} (null: none)
   * @throws IllegalArgumentException naming the file and the problem
   */
  public static Separator open(Path model, ModelConfig config, Path positionEmbeddingNpy) {
    return open(model, config, positionEmbeddingNpy, null);
  }

  /**
   * Opens a model in any format, running its session with {@code sessionConfig} (threads, device placement; null:
   * TensorFlow's defaults).
   */
  public static Separator open(Path model, ModelConfig config, Path positionEmbeddingNpy, ConfigProto sessionConfig) {
    return open(model, config, positionEmbeddingNpy, sessionConfig, false);
  }

  /**
   * Opens a model in any format; a SavedModel's ops are checked before it is loaded
   * ({@link dev.bss.interop.savedmodel.SavedModelOpCheck}) unless {@code trustModel}.
   */
  public static Separator open(Path model, ModelConfig config, Path positionEmbeddingNpy, ConfigProto sessionConfig,
      boolean trustModel) {
    return open(ModelFiles.detect(model), model, config, positionEmbeddingNpy, sessionConfig, trustModel);
  }

  /** Opens a model whose format the caller has already {@linkplain ModelFiles#detect detected}. */
  public static Separator open(ModelFormat format, Path model, ModelConfig config, Path positionEmbeddingNpy,
      ConfigProto sessionConfig, boolean trustModel) {
    if (format == ModelFormat.SAVED_MODEL) {
      return new SavedModelSeparator(SavedModelRunner.open(model, sessionConfig, trustModel));
    }
    LoadedModel loaded = ModelFiles.load(format, model, config, positionEmbeddingNpy, trustModel);
    return new GraphSeparator(loaded.config(), loaded.weights(), loaded.describe(), sessionConfig);
  }

  /**
   * A SavedModel whose serving signature has one image input and two outputs: keyed {@code decoded1} and
   * {@code decoded2} (ours; tf.keras 2 {@code model.save} names outputs after their layers), or {@code output_0}
   * and {@code output_1} (Keras 3 {@code model.export} numbers the outputs in {@code model.outputs} order, which is
   * decoded1, decoded2 for the reference network). Mapped by key, never by tensor position.
   */
  static final class SavedModelSeparator implements Separator {
    private final SavedModelRunner runner;
    private final String key1;
    private final String key2;

    SavedModelSeparator(SavedModelRunner runner) {
      this.runner = runner;
      try {
        List<String> outputs = runner.outputKeys();
        if (outputs.containsAll(List.of("decoded1", "decoded2"))) {
          key1 = "decoded1";
          key2 = "decoded2";
        } else if (outputs.equals(List.of("output_0", "output_1"))) {
          key1 = "output_0";
          key2 = "output_1";
        } else {
          key1 = null;
          key2 = null;
        }
        if (runner.inputKeys().size() != 1 || key1 == null) {
          throw new IllegalArgumentException("SavedModel " + runner.directory() + ": not a separation model (expected "
              + "one image input and outputs decoded1 and decoded2; its signature is " + runner.describe() + ")");
        }
        long[] in = runner.shape(runner.inputKeys().get(0));
        if (in != null && (in.length != 4 || !fits(in[1], 32) || !fits(in[2], 32) || !fits(in[3], 1))) {
          throw new IllegalArgumentException("SavedModel " + runner.directory() + ": input '" + runner.inputKeys().get(0)
              + "' has shape " + Arrays.toString(in) + ", expected [-1, 32, 32, 1]");
        }
      } catch (RuntimeException e) {
        runner.close();
        throw e;
      }
    }

    private static boolean fits(long declared, long wanted) {
      return declared < 0 || declared == wanted;
    }

    @Override
    public SeparationResult separate(float[] mixtures, int count) {
      Separator.checkInput(mixtures, count);
      Map<String, Weight> out = runner.run(mixtures, new long[] {count, 32, 32, 1});
      return new SeparationResult(out.get(key1).data(), out.get(key2).data());
    }

    @Override
    public String description() {
      return "savedmodel " + runner.directory() + " signature " + runner.describe();
    }

    @Override
    public void close() {
      runner.close();
    }
  }
}
