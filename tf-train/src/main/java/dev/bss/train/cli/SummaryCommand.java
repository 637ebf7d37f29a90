package dev.bss.train.cli;

import dev.bss.model.ModelConfig;
import dev.bss.model.SeparationModel;
import dev.bss.model.LayerInfo;
import dev.bss.model.VariableRegistry;
import dev.bss.model.WeightSet;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.tensorflow.Graph;
import org.tensorflow.op.Ops;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bss summary}: the layer table of the network (Keras names, classes, output shapes, parameters) and totals. */
@Command(name = "summary", mixinStandardHelpOptions = true,
    description = "Prints the network's layers (Keras names, classes, output shapes, parameters) and totals.")
public final class SummaryCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--config", paramLabel = "seed|tiny|FILE", defaultValue = "seed", description = ConfigOption.DESCRIPTION)
  String config;

  @Mixin VerboseOption verbose;

  @Override
  public Integer call() {
    ModelConfig modelConfig = ConfigOption.resolve(config);
    try (Graph graph = new Graph()) {
      SeparationModel model = SeparationModel.build(Ops.create(graph), modelConfig);
      print(model, config, spec.commandLine().getOut());
    }
    return 0;
  }

  /** Writes the table in Keras's {@code model.summary()} spirit. */
  static void print(SeparationModel model, String configName, PrintWriter out) {
    out.println("Model: \"Model2_UNet_Autoencoder_Transformer\" (config " + configName + ": "
        + model.config().toMap() + ")");
    String format = "%-28s %-24s %-22s %12s  %s%n";
    String rule = "-".repeat(120);
    out.println(rule);
    out.printf(Locale.ROOT, format, "Layer", "Class", "Output shape", "Param #", "Connected to");
    out.println(rule);
    for (LayerInfo layer : model.layers()) {
      boolean positionAdd = layer.name().equals(SeparationModel.POSITION_ADD);
      String kerasClass = positionAdd ? "(op) x + pos_embedding" : layer.kerasClass();
      out.printf(Locale.ROOT, format, layer.name(), kerasClass, shape(layer.outputShape()),
          String.format(Locale.ROOT, "%,d", layer.parameters()), String.join(", ", layer.inbound()));
    }
    out.println(rule);
    VariableRegistry r = model.variables();
    out.printf(Locale.ROOT, "Total params: %,d%n", r.parameterCount());
    out.printf(Locale.ROOT, "Trainable params: %,d%n", r.trainableParameterCount());
    out.printf(Locale.ROOT, "Non-trainable params: %,d%n", r.nonTrainableParameterCount());
    var position = r.get(WeightSet.POSITION_EMBEDDING);
    out.printf(Locale.ROOT, "Position embedding: %s, %,d values, %s%n", shape(position.shape()).replace("None, ", ""),
        position.size(), position.trainable() ? "trainable (opt-in variant, counted above)"
            : "frozen (saved with the weights, not counted, as in Keras)");
    out.flush();
  }

  private static String shape(long[] dims) {
    StringBuilder sb = new StringBuilder("(None");
    for (long d : dims) {
      sb.append(", ").append(d);
    }
    return sb.append(')').toString();
  }
}
