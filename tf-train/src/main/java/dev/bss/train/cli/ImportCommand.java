package dev.bss.train.cli;

import dev.bss.interop.ModelFormat;
import dev.bss.interop.LoadedModel;
import dev.bss.interop.ModelFiles;
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
 * {@code bss import}: converts a model in any format (.keras, .weights.h5, legacy .h5, our SavedModel, .npz, run
 * or checkpoint dir) into our checkpoint directory ({@code weights.npz} + {@code model.json}), validating every
 * weight first.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = {"Converts a model (.keras, .weights.h5, legacy .h5, bss SavedModel, .npz, checkpoint or run dir)",
        "into a bss checkpoint directory (weights.npz + model.json) usable wherever --model is taken."})
public final class ImportCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SRC", description = "the model to import")
  Path source;

  @Option(names = "--to", required = true, paramLabel = "OUT", description = "checkpoint directory to write")
  Path to;

  @Mixin OverwriteOption overwrite;

  @Mixin ModelFileOptions modelOptions;

  @Override
  public Integer call() {
    OutputTarget.check("--to", to, source, true, overwrite.overwrite);
    LoadedModel model = modelOptions.load(source);
    ExportCommand.save(model, ModelFormat.CHECKPOINT, "--to", to, source);
    PrintWriter out = spec.commandLine().getOut();
    out.println("imported " + model.describe());
    out.println("wrote checkpoint " + to + " (" + model.weights().size() + " arrays, " + model.weights().totalValues()
        + " values)");
    out.flush();
    return 0;
  }
}
