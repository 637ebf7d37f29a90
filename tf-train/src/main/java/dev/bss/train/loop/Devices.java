package dev.bss.train.loop;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_CloseSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListType;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_GetCode;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;

/**
 * Chooses the device and thread settings of a session: {@code cpu}, {@code gpu} or {@code auto} (GPU when TensorFlow
 * sees one), and lists the devices TensorFlow actually sees (through the C API's {@code TF_SessionListDevices}).
 */
public final class Devices {

  private Devices() {}

  /** The outcome of a device request. */
  public record Choice(String requested, boolean gpu, List<String> visible, String notice, ConfigProto config) {

    /** One line for the start of a run, e.g. {@code device: cpu (2 threads; TensorFlow sees CPU:0)}. */
    public String describe(int threads) {
      return String.format(Locale.ROOT, "device: %s (%s; TensorFlow %s sees %s)", gpu ? "gpu" : "cpu",
          threads > 0 ? threads + " threads" : "default threads", TensorFlow.version(),
          visible.isEmpty() ? "no device list" : String.join(", ", visible));
    }
  }

  /**
   * Resolves {@code requested} (cpu, gpu or auto) into a session config with {@code threads} intra-op threads
   * (0 = TensorFlow's default) and one inter-op thread (the training graph is a chain; this also keeps runs
   * reproducible).
   *
   * @throws IllegalArgumentException for any other device name
   */
  public static Choice choose(String requested, int threads) {
    String r = requested == null ? "auto" : requested.toLowerCase(Locale.ROOT);
    if (!r.equals("cpu") && !r.equals("gpu") && !r.equals("auto")) {
      throw new IllegalArgumentException("--device: expected cpu, gpu or auto, found '" + requested + "'");
    }
    List<String> visible = listDevices();
    boolean hasGpu = visible.stream().anyMatch(d -> d.contains("GPU"));
    String notice = null;
    boolean gpu = false;
    if (r.equals("gpu")) {
      if (hasGpu) {
        gpu = true;
      } else {
        notice = "--device gpu: TensorFlow sees no GPU (this is the CPU build, or CUDA/the driver is missing); "
            + "falling back to CPU. Build with BSS_MAVEN_ARGS=-Pgpu on a machine with CUDA 12 to use one.";
      }
    } else if (r.equals("auto")) {
      gpu = hasGpu;
      if (!hasGpu && isGpuBuild()) {
        notice = "this is the GPU build but TensorFlow sees no GPU (CUDA 12 / cuDNN or the driver missing?); "
            + "running on CPU";
      }
    }
    ConfigProto.Builder config = ConfigProto.newBuilder().setAllowSoftPlacement(true)
        .setInterOpParallelismThreads(1)
        .setGpuOptions(GPUOptions.newBuilder().setAllowGrowth(true));
    if (threads > 0) {
      config.setIntraOpParallelismThreads(threads);
    }
    if (!gpu) {
      config.putDeviceCount("GPU", 0);
    }
    return new Choice(r, gpu, visible, notice, config.build());
  }

  /** Largest --threads. */
  public static final int MAX_THREADS = 1024;

  /**
   * The intra-op thread count of a {@code --threads} option, the one rule of every command: the available
   * processors when absent, else 1 to {@value #MAX_THREADS}.
   *
   * @throws IllegalArgumentException naming the option otherwise
   */
  public static int threadCount(Integer option) {
    int threads = option != null ? option : Runtime.getRuntime().availableProcessors();
    TrainOptions.range("--threads", threads, 1, MAX_THREADS);
    return threads;
  }

  /** True when the TensorFlow native library on the class path is the CUDA build (javacpp's -gpu platform). */
  public static boolean isGpuBuild() {
    return Devices.class.getClassLoader().getResource("org/tensorflow/internal/c_api/linux-x86_64-gpu/") != null
        || Devices.class.getClassLoader().getResource("org/tensorflow/internal/c_api/windows-x86_64-gpu/") != null;
  }

  /** Names and types of the devices a default session sees, e.g. {@code CPU:0}; empty if listing fails. */
  public static List<String> listDevices() {
    List<String> devices = new ArrayList<>();
    TF_Status status = TF_NewStatus();
    TF_Graph graph = TF_NewGraph();
    TF_SessionOptions options = TF_NewSessionOptions();
    TF_Session session = null;
    try {
      byte[] config = ConfigProto.newBuilder()
          .setGpuOptions(GPUOptions.newBuilder().setAllowGrowth(true)).build().toByteArray();
      try (BytePointer bytes = new BytePointer(config)) {
        TF_SetConfig(options, bytes, config.length, status);
      }
      session = TF_NewSession(graph, options, status);
      if (TF_GetCode(status) != 0) {
        return devices;
      }
      TF_DeviceList list = TF_SessionListDevices(session, status);
      if (TF_GetCode(status) == 0 && list != null) {
        for (int i = 0; i < TF_DeviceListCount(list); i++) {
          String name = TF_DeviceListName(list, i, status).getString();
          String type = TF_DeviceListType(list, i, status).getString();
          // "/job:localhost/replica:0/task:0/device:CPU:0" -> "CPU:0"
          String shortName = name.substring(name.lastIndexOf("device:") >= 0 ? name.lastIndexOf("device:") + 7 : 0);
          devices.add(shortName.isEmpty() ? type : shortName);
        }
        TF_DeleteDeviceList(list);
      }
    } catch (RuntimeException | LinkageError e) {
      // The listing is informative only; a failure must not stop training.
    } finally {
      if (session != null) {
        TF_CloseSession(session, status);
        TF_DeleteSession(session, status);
      }
      TF_DeleteSessionOptions(options);
      TF_DeleteGraph(graph);
      TF_DeleteStatus(status);
    }
    return devices;
  }
}
