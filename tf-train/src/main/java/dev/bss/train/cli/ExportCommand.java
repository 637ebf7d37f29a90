package dev.bss.train.cli;

import dev.bss.interop.ModelFormat;
import dev.bss.interop.LoadedModel;
import dev.bss.interop.ModelFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bss export}: writes a model (any readable format) as a TensorFlow SavedModel, a Keras 3 {@code .keras} or
 * {@code .weights.h5}, or our checkpoint directory ({@code npz}).
 */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Writes a model as a SavedModel (serving_default: input_img -> decoded1, decoded2), a Keras 3",
        ".keras or .weights.h5 file, or a bss checkpoint directory (npz).",
        "A .weights.h5 also holds the frozen position embedding in bss/pos_embedding (Keras ignores it)."})
public final class ExportCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SRC", description = "the model to export (any supported format)")
  Path source;

  @Option(names = "--format", required = true, paramLabel = "FORMAT",
      description = "savedmodel, keras, weights-h5 or npz (checkpoint directory)")
  String format;

  @Option(names = "--out", required = true, paramLabel = "OUT", description = "file or directory to write")
  Path out;

  @Mixin OverwriteOption overwrite;

  @Mixin ModelFileOptions modelOptions;

  @Override
  public Integer call() {
    ModelFormat target = ModelFormat.forExport(format);
    String name = out.getFileName().toString();
    if (target == ModelFormat.WEIGHTS_H5 && !name.endsWith(".weights.h5")) {
      throw new Cli.UserException("--out " + out + ": Keras 3 loads weights only from a file named *.weights.h5");
    }
    if (target == ModelFormat.KERAS && !name.endsWith(".keras")) {
      throw new Cli.UserException("--out " + out + ": Keras 3 loads models only from a file named *.keras");
    }
    OutputTarget.check("--out", out, source, target == ModelFormat.SAVED_MODEL
        || target == ModelFormat.CHECKPOINT, overwrite.overwrite);
    LoadedModel model = modelOptions.load(source);
    save(model, target, "--out", out, source);
    PrintWriter o = spec.commandLine().getOut();
    o.println("read " + model.describe());
    o.println("wrote " + target.cliName() + " " + out);
    o.flush();
    return 0;
  }

  /** Writes the model, reporting a failed write (disk full, permissions) as one line naming the output. */
  static void save(LoadedModel model, ModelFormat target, String option, Path out, Path source) {
    try {
      ModelFiles.save(model.config(), model.weights(), target, out, source.toString());
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException) {
        throw (IllegalArgumentException) e;
      }
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      String why = root.getMessage() != null ? root.getMessage().strip().lines().findFirst().orElse("")
          : root.getClass().getSimpleName();
      throw new Cli.UserException(option + " " + out + ": cannot write " + target.cliName() + " (" + why
          + "); nothing was written", 1);
    }
  }
}
