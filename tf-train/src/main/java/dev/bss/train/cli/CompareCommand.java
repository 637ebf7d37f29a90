package dev.bss.train.cli;

import com.google.gson.GsonBuilder;
import dev.bss.interop.SeparationResult;
import dev.bss.interop.Separator;
import dev.bss.interop.numpy.Npy;
import dev.bss.model.Comparison;
import dev.bss.model.Weight;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bss compare}: runs a model (any format) on {@code --inputs} and compares its two outputs with
 * {@code --expected} arrays, e.g. Keras's outputs for the same inputs. Exit status 0 within tolerance, 1 beyond,
 * 2 on bad input.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Runs a model on inputs and compares decoded1/decoded2 with expected arrays.",
        "Per output: max abs diff, max rel diff, worst index, count over |a - e| <= atol + rtol * |e|.",
        "Exit status: 0 within tolerance, 1 beyond, 2 bad input."})
public final class CompareCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "PATH",
      description = "SavedModel dir, .keras, .weights.h5, legacy .h5, checkpoint dir, run dir or .npz")
  Path model;

  @Option(names = "--inputs", required = true, paramLabel = "X.npy", description = "mixtures [N, 32, 32, 1]")
  Path inputs;

  @Option(names = "--expected", required = true, arity = "2", paramLabel = "FILE.npy",
      description = "expected decoded1 and decoded2, each shaped like the inputs")
  List<Path> expected;

  @Option(names = "--atol", defaultValue = "1e-4", description = "absolute tolerance (default ${DEFAULT-VALUE})")
  double atol;

  @Option(names = "--rtol", defaultValue = "0", description = "relative tolerance (default ${DEFAULT-VALUE})")
  double rtol;

  @Option(names = "--json", description = "print the report as JSON")
  boolean json;



  @Mixin ModelFileOptions modelOptions;

  @Override
  public Integer call() {
    try {
      return compare();
    } catch (Cli.UserException e) {
      throw e.exitCode() == 1 ? new Cli.UserException(e.getMessage(), e) : e;
    } catch (RuntimeException e) {
      // Exit status 1 means "beyond tolerance" only: every other failure is bad input (status 2).
      throw new Cli.UserException(ErrorMessages.describe(e), e);
    }
  }

  private int compare() {
    if (!(atol >= 0) || !(rtol >= 0) || !Double.isFinite(atol) || !Double.isFinite(rtol)) {
      throw new Cli.UserException("--atol and --rtol must be finite and >= 0, found " + atol + " and " + rtol);
    }
    MixtureInputs inputFile = MixtureInputs.open(inputs, "--inputs", spec.commandLine().getErr());
    long values = inputFile.count() * Separator.IMAGE_VALUES;
    for (Path p : expected) {
      Npy.Header h = header(p);
      if (h.size() != values) {
        throw new Cli.UserException("--expected " + p + ": expected shape " + Arrays.toString(inputFile.shape())
            + " (like --inputs), found " + Arrays.toString(h.shape()));
      }
    }
    // inputs, two expected and two actual arrays, plus one conversion buffer
    Memory.require("--inputs " + inputs, inputFile.count(), 6L * 4 * Separator.IMAGE_VALUES, "mixtures");
    Weight mixtures = new Weight(inputFile.shape(), inputFile.readAll());
    Weight e1 = readFloats(expected.get(0), "--expected");
    Weight e2 = readFloats(expected.get(1), "--expected");
    SeparationResult result;
    String description;
    try (Separator separator = modelOptions.open(model)) {
      description = separator.description();
      result = separator.separateAll(mixtures.data());
    }
    long[] shape = mixtures.shape();
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("model", model.toString());
    report.put("loaded", description);
    report.put("atol", atol);
    report.put("rtol", rtol);
    Map<String, Object> outputs = new LinkedHashMap<>();
    boolean passed = true;
    String[] names = {"decoded1", "decoded2"};
    float[][] actual = {result.decoded1(), result.decoded2()};
    float[][] wanted = {e1.data(), e2.data()};
    for (int i = 0; i < 2; i++) {
      Comparison c = Comparison.of(actual[i], wanted[i], atol, rtol);
      passed &= c.passed();
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("max_abs_diff", c.maxAbsDiff());
      o.put("max_rel_diff", maxRelativeDiff(actual[i], wanted[i]));
      o.put("worst_index", Arrays.stream(c.worstIndex(shape)).boxed().toList());
      o.put("worst_actual", c.worstActual());
      o.put("worst_expected", c.worstExpected());
      o.put("over_tolerance", c.mismatches());
      o.put("count", c.count());
      outputs.put(names[i], o);
    }
    report.put("outputs", outputs);
    report.put("within_tolerance", passed);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(report));
    } else {
      out.println("model: " + description);
      for (String name : names) {
        @SuppressWarnings("unchecked")
        Map<String, Object> o = (Map<String, Object>) outputs.get(name);
        out.println(String.format(Locale.ROOT, "%s: max abs diff %.3g, max rel diff %.3g, worst at %s (actual %.8g,"
            + " expected %.8g), %d of %d over tolerance", name, (double) o.get("max_abs_diff"),
            (double) o.get("max_rel_diff"), o.get("worst_index"), (float) o.get("worst_actual"),
            (float) o.get("worst_expected"), (long) o.get("over_tolerance"), (long) o.get("count")));
      }
      out.println((passed ? "WITHIN TOLERANCE" : "BEYOND TOLERANCE") + " (atol " + atol + ", rtol " + rtol + ")");
    }
    out.flush();
    return passed ? 0 : 1;
  }

  /** Largest {@code |a - e| / |e|} over elements with {@code e != 0}. */
  static double maxRelativeDiff(float[] a, float[] e) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      if (e[i] != 0) {
        max = Math.max(max, Math.abs((double) a[i] - e[i]) / Math.abs((double) e[i]));
      }
    }
    return max;
  }


  private static Npy.Header header(Path file) {
    try {
      return Npy.readHeader(file);
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      throw new Cli.UserException("--expected " + e.getMessage(), e);
    }
  }

  /** A float array file (.npy), with the option named in errors. */
  static Weight readFloats(Path file, String option) {
    try {
      return Npy.readFloats(file);
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      throw new Cli.UserException(option + " " + e.getMessage(), e);
    }
  }
}
