package dev.bss.interop.savedmodel;

import com.google.gson.GsonBuilder;
import dev.bss.interop.AtomicFiles;
import dev.bss.interop.keras.WeightCheck;
import dev.bss.model.ModelConfig;
import dev.bss.model.ModelVariable;
import dev.bss.model.SeparationModel;
import dev.bss.model.WeightSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.Ops;

/**
 * Exports the network as a TensorFlow SavedModel: tag {@code serve}, signature {@code serving_default}
 * (method {@code tensorflow/serving/predict}) with input {@code input_img} {@code [-1, 32, 32, 1]} float32 and
 * outputs {@code decoded1}, {@code decoded2} of the inference branch; every variable (the frozen position
 * embedding included) in {@code variables/}; and {@value #PROVENANCE} with the config, versions, the source and
 * each Keras path's variable name (so the weights can be read back by path).
 */
public final class SavedModelExport {

  /** Provenance file inside the SavedModel. */
  public static final String PROVENANCE = "assets.extra/bss-model.json";

  private SavedModelExport() {}

  /**
   * Writes the SavedModel directory atomically (temporary directory, then rename).
   *
   * @param source where the weights came from (recorded in the provenance)
   */
  public static void export(Path dir, ModelConfig config, WeightSet weights, String source) throws IOException {
    WeightCheck.validate(weights, config, "weights to export");
    AtomicFiles.writeDirectory(dir, tmp -> {
      Map<String, String> variables = new LinkedHashMap<>();
      // The exporter creates the directory itself.
      Files.delete(tmp);
      try (Graph g = new Graph(); Session s = new Session(g)) {
        SeparationModel model = SeparationModel.build(Ops.create(g), config);
        model.variables().assign(s, weights);
        for (ModelVariable v : model.variables().all()) {
          variables.put(v.path(), v.variable().op().name());
        }
        Signature signature = Signature.builder("serving_default").methodName("tensorflow/serving/predict")
            .input("input_img", model.input())
            .output("decoded1", model.decoded1(false))
            .output("decoded2", model.decoded2(false))
            .build();
        SavedModelBundle.exporter(tmp.toString()).withSession(s).withSignature(signature).export();
      }
      Map<String, Object> provenance = new LinkedHashMap<>();
      provenance.put("format", "bss separation network SavedModel");
      provenance.put("config", config.toMap());
      provenance.put("tensorflow_version", TensorFlow.version());
      provenance.put("tensorflow_java", "1.1.0");
      provenance.put("source", source);
      // LinkedHashMap, not Map.of, whose order changes from one JVM to the next: the file is the same on every export
      Map<String, Object> signatureInfo = new LinkedHashMap<>();
      signatureInfo.put("key", "serving_default");
      signatureInfo.put("input", "input_img");
      signatureInfo.put("outputs", java.util.List.of("decoded1", "decoded2"));
      provenance.put("signature", signatureInfo);
      provenance.put("variables", variables);
      Path file = tmp.resolve(PROVENANCE);
      Files.createDirectories(file.getParent());
      Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(provenance));
    });
  }
}
