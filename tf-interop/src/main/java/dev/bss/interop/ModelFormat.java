package dev.bss.interop;

import java.util.Locale;

/** A model file format. */
public enum ModelFormat {
  SAVED_MODEL("savedmodel"), KERAS("keras"), WEIGHTS_H5("weights-h5"), LEGACY_H5("legacy-h5"),
  CHECKPOINT("npz"), NPZ("npz-file"), RUN_DIR("run");

  private final String cliName;

  ModelFormat(String cliName) {
    this.cliName = cliName;
  }

  /** The name used on the command line ({@code --format}). */
  public String cliName() {
    return cliName;
  }

  /** The format named on the command line: savedmodel, keras, weights-h5 or npz (a checkpoint directory). */
  public static ModelFormat forExport(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "savedmodel", "saved_model", "saved-model" -> SAVED_MODEL;
      case "keras" -> KERAS;
      case "weights-h5", "weights.h5", "h5" -> WEIGHTS_H5;
      case "npz", "checkpoint" -> CHECKPOINT;
      default -> throw new IllegalArgumentException("--format: expected savedmodel, keras, weights-h5 or npz, found '"
          + name + "'");
    };
  }
}
