package dev.bss.interop.keras;

import dev.bss.interop.numpy.Npy;
import dev.bss.model.ModelConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ScratchTest {
  @Test
  void write() throws Exception {
    Path dir = Path.of("/work/shared/keras-reference/tiny");
    KerasModelWeights w = KerasWeightsH5.read(dir.resolve("reference.weights.h5"), null, Npy.readFloats(dir.resolve("pos_embedding.npy")));
    KerasWeightsH5.write(Path.of("/tmp/ours.weights.h5"), ModelConfig.tiny(), w.weights());
    KerasArchive.write(Path.of("/tmp/ours.keras"), ModelConfig.tiny(), w.weights());
  }
}
