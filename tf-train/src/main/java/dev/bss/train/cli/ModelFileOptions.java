package dev.bss.train.cli;

import dev.bss.interop.LoadedModel;
import dev.bss.interop.ModelFiles;
import dev.bss.interop.Separator;
import dev.bss.interop.Separators;
import dev.bss.model.ModelConfig;
import java.nio.file.Path;
import org.tensorflow.proto.ConfigProto;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options shared by every command that reads a model file: a config override, the position embedding, --verbose,
 * --trust-model. */
public final class ModelFileOptions {

  @Option(names = "--config", paramLabel = "seed|tiny|FILE",
      description = "model config: seed, tiny or a JSON file (default: from the model file, or inferred from the "
          + "weights' shapes)")
  String config;

  @Option(names = "--pos-embedding", paramLabel = "FILE.npy",
      description = "position embedding, needed for a Keras-written .weights.h5 (Keras does not store it)")
  Path posEmbedding;

  @Mixin VerboseOption verbose;

  @Option(names = "--trust-model", description = "run a SavedModel even if its graph has ops beyond pure "
      + "computation (file or network I/O, Python calls, ...); only for files you trust")
  boolean trustModel;

  /** The --config override, or null to take the file's own (or inferred) config. */
  ModelConfig configOverride() {
    return config == null ? null : ConfigOption.resolve(config);
  }

  /** Loads a model's weights and config with these options. */
  LoadedModel load(Path model) {
    return ModelFiles.load(model, configOverride(), posEmbedding, trustModel);
  }

  /** Opens a model for inference with these options. */
  Separator open(Path model) {
    return open(model, null);
  }

  /** Opens a model for inference with these options, its session run with {@code sessionConfig} (null: defaults). */
  Separator open(Path model, ConfigProto sessionConfig) {
    return Separators.open(model, configOverride(), posEmbedding, sessionConfig, trustModel);
  }
}
