package dev.bss.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Device choice (with the CPU build this test runs on) and the plain-line progress output. */
class DevicesAndProgressTest {

  @Test
  void devicesAreListedAndGpuRequestFallsBackWithANotice() {
    assertTrue(Devices.listDevices().contains("CPU:0"), Devices.listDevices().toString());
    Devices.Choice cpu = Devices.choose("cpu", 2);
    assertFalse(cpu.gpu());
    assertNull(cpu.notice());
    assertEquals(2, cpu.config().getIntraOpParallelismThreads());
    assertEquals(1, cpu.config().getInterOpParallelismThreads());
    assertEquals(0, cpu.config().getDeviceCountMap().get("GPU"));
    assertTrue(cpu.describe(2).startsWith("device: cpu (2 threads; TensorFlow "), cpu.describe(2));
    boolean gpuVisible = Devices.listDevices().stream().anyMatch(d -> d.contains("GPU"));
    Devices.Choice gpu = Devices.choose("GPU", 0);
    assertEquals(gpuVisible, gpu.gpu());
    if (!gpuVisible) {
      assertNotNull(gpu.notice());
      assertTrue(gpu.notice().contains("falling back to CPU"), gpu.notice());
    }
    var e = assertThrows(IllegalArgumentException.class, () -> Devices.choose("tpu", 1));
    assertEquals("--device: expected cpu, gpu or auto, found 'tpu'", e.getMessage());
  }

  @Test
  void plainProgressPrintsAboutTenLinesPerEpoch() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (Progress progress = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false)) {
      progress.startEpoch(2, 5, 37);
      for (int step = 1; step <= 37; step++) {
        progress.step(step, 0.5 / step, 1e-3f, 100);
      }
      progress.endEpoch("epoch 2/5  loss 0.1");
    }
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertEquals(11, lines.length, String.join("\n", lines));
    assertTrue(lines[0].startsWith("epoch 2/5  step 4/37  loss 0.12500  lr 0.00100  100 samples/s"), lines[0]);
    assertTrue(lines[9].startsWith("epoch 2/5  step 37/37"), lines[9]);
    assertEquals("epoch 2/5  loss 0.1", lines[10]);
  }
}
