package dev.bss.interop;

import dev.bss.interop.keras.WeightCheck;
import dev.bss.model.ModelConfig;
import dev.bss.model.WeightSet;
import java.nio.file.Path;

/**
 * A loaded model, whatever its format: what every reader in {@link ModelFiles} (and the Keras and SavedModel
 * readers below it) returns.
 *
 * @param format the format it was read from
 * @param source the file or directory actually read (for a run directory: the checkpoint chosen)
 * @param config the network's config
 * @param weights every variable by Keras path, position embedding included
 */
public record LoadedModel(ModelFormat format, Path source, ModelConfig config, WeightSet weights) {
  /** One line: format, source, config. */
  public String describe() {
    return format.cliName() + " " + source + " " + WeightCheck.describe(config);
  }
}
