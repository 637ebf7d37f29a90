package dev.bss.train.loop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;

/**
 * The compute precision of a session, as Keras's dtype policies have it: {@code float32} (the default: the graph
 * runs as built) or {@code bf16}, Keras's {@code mixed_bfloat16} (bf16 compute, float32 variables, float32 loss).
 *
 * <p>bf16 is TensorFlow's Grappler pass {@code auto_mixed_precision_onednn_bfloat16} switched on in the session
 * config: the graph is built in float32 as always, and the pass rewrites the compute-heavy ops (convolutions,
 * matrix multiplies and their gradients, plus the elementwise ops between them) to bfloat16 oneDNN kernels with casts
 * at the edges. What is numerically sensitive stays in float32: TensorFlow's deny list (exp/log, ...), the
 * optimizer's update of the float32 variables, and, added by {@link MixedPrecisionLists}, the normalization
 * statistics, softmax, the output sigmoid and the loss, as Keras 3 keeps them. Nothing in the graph, the weights or
 * the files changes, so a model trained in bf16 is an ordinary float32 model. The CPU needs AVX512_BF16 or AMX-BF16
 * (without them oneDNN would emulate bf16, slower than float32), so bf16 is refused elsewhere.
 */
public enum Precision {
  /** Everything in float32. */
  FLOAT32("float32"),
  /** Keras's mixed_bfloat16: bf16 compute, float32 variables and loss. */
  BFLOAT16("bf16");

  /** CPU flags (as {@code /proc/cpuinfo} names them) that give native bf16 matrix math. */
  public static final Set<String> BF16_FLAGS = Set.of("avx512_bf16", "amx_bf16");

  private final String label;

  Precision(String label) {
    this.label = label;
  }

  /** The name used on the command line and in run records: {@code float32} or {@code bf16}. */
  public String label() {
    return label;
  }

  /**
   * Parses an option value: {@code float32} (also {@code fp32}) or {@code bf16} (also {@code bfloat16},
   * {@code mixed_bfloat16}).
   *
   * @throws IllegalArgumentException naming {@code --precision}, the accepted values and the value found
   */
  public static Precision parse(String value) {
    String v = value == null ? "float32" : value.toLowerCase(Locale.ROOT);
    return switch (v) {
      case "float32", "fp32" -> FLOAT32;
      case "bf16", "bfloat16", "mixed_bfloat16" -> BFLOAT16;
      default -> throw new IllegalArgumentException("--precision: expected float32 or bf16, found '" + value + "'");
    };
  }

  /**
   * Checks that this precision runs natively on a CPU with {@code cpuFlags}.
   *
   * @throws IllegalArgumentException (one line) for bf16 on a CPU without AVX512_BF16 or AMX-BF16
   */
  public void checkSupported(Set<String> cpuFlags) {
    if (this == BFLOAT16 && cpuFlags.stream().noneMatch(BF16_FLAGS::contains)) {
      throw new IllegalArgumentException("--precision bf16: this CPU has neither AVX512_BF16 nor AMX-BF16 "
          + "(no avx512_bf16/amx_bf16 flag" + (cpuFlags.isEmpty() ? "; CPU flags unreadable" : "")
          + "); use --precision float32");
    }
  }

  /** {@link #checkSupported} against this machine's CPU ({@link #cpuFlags()}). */
  public void checkSupported() {
    checkSupported(cpuFlags());
  }

  /**
   * Adds this precision to a session config (float32 returns it unchanged). For bf16 this also narrows the rewrite's
   * op lists in this process ({@link MixedPrecisionLists}).
   */
  public ConfigProto apply(ConfigProto config) {
    if (this == FLOAT32) {
      return config;
    }
    MixedPrecisionLists.install();
    GraphOptions.Builder graphOptions = config.getGraphOptions().toBuilder();
    RewriterConfig.Builder rewrite = graphOptions.getRewriteOptions().toBuilder()
        .setAutoMixedPrecisionOnednnBfloat16(RewriterConfig.Toggle.ON);
    return config.toBuilder().setGraphOptions(graphOptions.setRewriteOptions(rewrite)).build();
  }

  /** The precision a session config carries (bf16 when it switches the oneDNN bf16 rewrite on). */
  public static Precision of(ConfigProto config) {
    return config != null && config.getGraphOptions().getRewriteOptions().getAutoMixedPrecisionOnednnBfloat16()
        == RewriterConfig.Toggle.ON ? BFLOAT16 : FLOAT32;
  }

  /** The same device choice with this precision added to its session config. */
  public Devices.Choice apply(Devices.Choice choice) {
    return new Devices.Choice(choice.requested(), choice.gpu(), choice.visible(), choice.notice(),
        apply(choice.config()));
  }

  /** The flags of this machine's first CPU in {@code /proc/cpuinfo}; empty where that file is unreadable. */
  public static Set<String> cpuFlags() {
    return cpuFlags(Path.of("/proc/cpuinfo"));
  }

  /** The {@code flags} line of a cpuinfo file, as a set; empty if unreadable or absent. */
  static Set<String> cpuFlags(Path cpuinfo) {
    try {
      for (String line : Files.readAllLines(cpuinfo)) {
        if (line.startsWith("flags")) {
          int colon = line.indexOf(':');
          return new HashSet<>(Arrays.asList(line.substring(colon + 1).trim().split("\\s+")));
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux or unreadable: no flags known.
    }
    return Set.of();
  }
}
