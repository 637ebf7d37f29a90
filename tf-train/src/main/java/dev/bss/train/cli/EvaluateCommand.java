package dev.bss.train.cli;

import dev.bss.interop.Separator;
import dev.bss.train.data.DataSource;
import dev.bss.train.data.Datasets;
import dev.bss.train.eval.Evaluation;
import dev.bss.train.io.Checkpoint;
import dev.bss.train.loop.DatasetsPairData;
import dev.bss.train.loop.Devices;
import dev.bss.train.loop.Precision;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bss evaluate}: the seed's evaluation protocol on a trained model, with the identity baseline. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Runs the reference's evaluation: --draws draws of --samples test pairs (MNIST test x Fashion-MNIST test, "
          + "uniform with replacement); per draw the MNIST, Fashion and combined ((mse1 + mse2) / 2) MSE, then "
          + "mean and std; also the identity baseline (both outputs = the mixture).",
      "--model: a run folder, a training checkpoint directory, a SavedModel, .keras, .weights.h5 or legacy .h5 "
          + "file."})
public final class EvaluateCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "run folder, checkpoint directory or any model file "
      + "bss reads") Path model;
  @Option(names = "--draws", defaultValue = "10", description = "number of draws (default 10)") int draws;
  @Option(names = "--samples", defaultValue = "5000", description = "test pairs per draw (default 5000)") int samples;
  @Option(names = "--seed", defaultValue = "1", description = "seed of the draws (default 1)") long seed;
  @Option(names = "--json", description = "print JSON instead of a table") boolean json;
  @Option(names = "--data", description = "data folder or 'embedded' (default: $BSS_DATA, the Keras cache if "
      + "complete, else the embedded copy, which holds both full test sets)") Path data;
  @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu or auto") String device;
  @Option(names = "--threads", description = "intra-op threads (default: available processors)") Integer threads;
  @Option(names = "--precision", paramLabel = "float32|bf16", defaultValue = "float32", description = "float32 "
      + "(default) or bf16 (Keras's mixed_bfloat16; needs a CPU with AVX512_BF16 or AMX)") String precision;
  @Mixin ModelFileOptions modelOptions;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    if (!Files.exists(model)) {
      throw new Cli.UserException("--model " + model + ": no such file or directory");
    }
    if (draws <= 0 || samples <= 0) {
      throw new Cli.UserException("--draws and --samples must be positive, found " + draws + " and " + samples);
    }
    // one draw holds the mixtures, both targets and both predictions of every sample
    Memory.require("--samples", samples, 5L * 4 * Separator.IMAGE_VALUES, "test pairs per draw");
    int threadCount = Devices.threadCount(threads);
    Precision mode = Precision.parse(precision);
    mode.checkSupported();
    Devices.Choice choice = mode.apply(Devices.choose(device, threadCount));
    Datasets datasets = DataSource.resolve(Optional.ofNullable(data), System.getenv(),
        DataSource.defaultKerasHome(System.getenv()), false);
    DatasetsPairData pairs = new DatasetsPairData(datasets);
    Evaluation.Report report;
    String description;
    PrintWriter out = spec.commandLine().getOut();
    try (Separator loaded = modelOptions.open(model, choice.config())) {
      description = loaded.description();
      if (!json) {
        if (choice.notice() != null) {
          out.println("notice: " + choice.notice());
        }
        out.println("model: " + description);
        out.println("data: " + pairs.description());
        out.println(choice.describe(threadCount));
      }
      report = Evaluation.run(loaded, pairs.test(seed), draws, samples, seed);
    }
    if (json) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("model_description", description);
      map.put("data", pairs.description());
      map.putAll(report.toMap());
      out.println(Checkpoint.toJson(map));
    } else {
      out.print(report.toText());
    }
    out.flush();
    return 0;
  }
}
