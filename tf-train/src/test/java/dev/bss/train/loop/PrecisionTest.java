package dev.bss.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.bss.model.ModelConfig;
import dev.bss.train.data.Batch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.proto.RewriterConfig;

/** The precision policy: parsing, the CPU check, and what it does to a session config. */
class PrecisionTest {

  @TempDir Path tmp;

  @Test
  void parsesTheKerasAndShortNamesAndRejectsOthersInOneLine() {
    assertSame(Precision.FLOAT32, Precision.parse("float32"));
    assertSame(Precision.FLOAT32, Precision.parse("FP32"));
    assertSame(Precision.BFLOAT16, Precision.parse("bf16"));
    assertSame(Precision.BFLOAT16, Precision.parse("mixed_bfloat16"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
    assertEquals("--precision: expected float32 or bf16, found 'fp16'", e.getMessage());
  }

  @Test
  void bf16IsRefusedOnACpuWithoutBf16AndAcceptedWithIt() throws IOException {
    Path avx2Only = tmp.resolve("cpuinfo");
    Files.writeString(avx2Only, "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse sse2 avx avx2 fma avx512f\n");
    Set<String> flags = Precision.cpuFlags(avx2Only);
    assertTrue(flags.contains("avx512f") && !flags.contains("avx512_bf16"), flags.toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Precision.BFLOAT16.checkSupported(flags));
    assertTrue(e.getMessage().startsWith("--precision bf16: this CPU has neither AVX512_BF16 nor AMX-BF16"),
        e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), "one line");
    Precision.FLOAT32.checkSupported(flags);
    Precision.BFLOAT16.checkSupported(Set.of("avx512f", "avx512_bf16"));
    Precision.BFLOAT16.checkSupported(Set.of("amx_bf16", "amx_tile"));
    // Unreadable cpuinfo: no flags, so bf16 is refused rather than emulated.
    assertEquals(Set.of(), Precision.cpuFlags(tmp.resolve("missing")));
    assertThrows(IllegalArgumentException.class, () -> Precision.BFLOAT16.checkSupported(Set.of()));
  }

  @Test
  void bf16SwitchesOnTheOneDnnRewriteAndKeepsTheRestOfTheConfig() {
    ConfigProto base = Devices.choose("cpu", 2).config();
    assertSame(base, Precision.FLOAT32.apply(base), "float32 leaves the session config as it is");
    ConfigProto bf16 = Precision.BFLOAT16.apply(base);
    assertEquals(RewriterConfig.Toggle.ON,
        bf16.getGraphOptions().getRewriteOptions().getAutoMixedPrecisionOnednnBfloat16());
    assertEquals(base.getIntraOpParallelismThreads(), bf16.getIntraOpParallelismThreads());
    assertEquals(base.getInterOpParallelismThreads(), bf16.getInterOpParallelismThreads());
    assertSame(Precision.BFLOAT16, Precision.of(bf16));
    assertSame(Precision.FLOAT32, Precision.of(base));
  }

  /**
   * Under bf16 the rewrite turns the convolutions into bf16 kernels but keeps the normalization statistics and the
   * loss in float32 (the op lists of {@link MixedPrecisionLists}), and the Adam update entirely in float32, as the
   * executed graph shows. On a CPU without
   * bf16, bf16 is refused instead (and this asserts that).
   */
  @Test
  void bf16ConvolutionsRunInBf16WhileNormalizationAndLossStayFloat32() {
    Set<String> cpu = Precision.cpuFlags();
    if (cpu.stream().noneMatch(Precision.BF16_FLAGS::contains)) {
      assertThrows(IllegalArgumentException.class, () -> Precision.BFLOAT16.checkSupported(cpu));
      return;
    }
    ConfigProto bf16 = Precision.BFLOAT16.apply(Devices.choose("cpu", 2).config());
    String ops = String.join(",", MixedPrecisionLists.FLOAT32_OPS);
    MixedPrecisionLists.LibC libc = com.sun.jna.Native.load("c", MixedPrecisionLists.LibC.class);
    assertEquals(ops, libc.getenv(MixedPrecisionLists.DENY_ADD));
    assertEquals(ops, libc.getenv(MixedPrecisionLists.INFER_REMOVE));
    Map<String, Set<String>> types = new TreeMap<>();
    Set<String> optimizerTypes = new TreeSet<>();
    try (TrainingGraph graph = new TrainingGraph(ModelConfig.tiny(), bf16)) {
      graph.initialize(graph.model().variables().initialValues(1));
      List<Tensor> tensors = new ArrayList<>();
      Batch batch = Batch.allocate(4);
      for (var buffer : List.of(batch.mixture(), batch.mnist(), batch.fashion())) {
        for (long i = 0; i < buffer.size(); i++) {
          buffer.setFloat(0.25f, i);
        }
      }
      Session.Runner runner = graph.stepRunner(batch, 1e-3f, new long[] {1, 2}, true, tensors);
      runner.setOptions(RunOptions.newBuilder().setOutputPartitionGraphs(true).build());
      try (Result result = runner.runAndFetchMetadata()) {
        for (GraphDef partition : result.getMetadata().orElseThrow().getPartitionGraphsList()) {
          for (NodeDef node : partition.getNodeList()) {
            if (node.getAttrMap().containsKey("T")) {
              String type = node.getAttrMap().get("T").getType().name();
              types.computeIfAbsent(node.getOp().replace("_MklNative", "").replace("_Mkl", ""),
                  k -> new TreeSet<>()).add(type);
              if (node.getName().contains("keras_adam/") && !node.getOp().equals("Cast")) {
                optimizerTypes.add(type);
              }
            }
          }
        }
      } finally {
        tensors.forEach(Tensor::close);
        batch.close();
      }
    }
    assertEquals(Set.of("DT_BFLOAT16"), types.get("FusedConv2D"), types.toString());
    for (String op : List.of("Mean", "Square", "Rsqrt", "SquaredDifference", "Softmax", "Sigmoid")) {
      assertEquals(Set.of("DT_FLOAT"), types.get(op), op + ": " + types);
    }
    // Keras keeps the optimizer float32 under mixed_bfloat16 (without KerasAdam's Bitcast pair, (g - m) * (1 - b1)
    // ran in bf16 for most variables)
    optimizerTypes.remove("DT_INT64"); // the iteration counter
    assertEquals(Set.of("DT_FLOAT"), optimizerTypes, "types of the Adam update ops");
  }
}
