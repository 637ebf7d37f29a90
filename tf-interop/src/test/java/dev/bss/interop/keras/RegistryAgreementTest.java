package dev.bss.interop.keras;

import dev.bss.model.keras.ReferenceGraph;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bss.model.ModelConfig;
import dev.bss.model.ModelVariable;
import dev.bss.model.SeparationModel;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.op.Ops;

/**
 * The interop layer's view of the network (Keras graph, .weights.h5 layout, expected shapes) agrees with the Java
 * network's variable registry, for the tiny config and for a config with another number of blocks.
 */
class RegistryAgreementTest {

  private static void agree(ModelConfig config) {
    try (Graph g = new Graph()) {
      SeparationModel model = SeparationModel.build(Ops.create(g), config);
      Map<String, long[]> registry = new TreeMap<>();
      for (ModelVariable v : model.variables().all()) {
        registry.put(v.path(), v.shape());
      }
      Map<String, long[]> ours = new TreeMap<>(WeightCheck.expectedShapes(config));
      assertEquals(registry.keySet(), ours.keySet());
      registry.forEach((path, shape) -> assertArrayEquals(shape, ours.get(path), path));
      // The .weights.h5 layout names exactly the registry's Keras weights (the pos embedding is no Keras weight).
      Map<String, String> h5 = WeightsH5Layout.of(ReferenceGraph.of(config)).byKerasPath();
      assertEquals(model.variables().all().stream().filter(ModelVariable::kerasWeight).map(ModelVariable::path)
          .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new)), new java.util.TreeSet<>(h5.keySet()));
    }
  }

  @Test
  void tinyConfig() {
    agree(ModelConfig.tiny());
  }

  @Test
  void twoBlocksAndOtherWidths() {
    agree(new ModelConfig(new int[] {4, 8, 12}, 16, 4, 20, 2, 1, 12, 2, 1e-6, 0.1, false));
  }
}
