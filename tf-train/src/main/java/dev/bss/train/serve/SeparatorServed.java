package dev.bss.train.serve;

import dev.bss.interop.SeparationResult;
import dev.bss.interop.Separator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The separation network loaded from any non-SavedModel format (run folder, checkpoint, .keras, .weights.h5, .h5,
 * .npz), served with the signature of our SavedModel export: {@code serving_default}, input {@code input_img}
 * [-1, 32, 32, 1], outputs {@code decoded1} and {@code decoded2} of the same shape.
 */
public final class SeparatorServed implements ServedModel {

  static final String SIGNATURE = "serving_default";
  static final String INPUT = "input_img";
  private static final long[] IMAGE = {-1, 32, 32, 1};

  private final Separator separator;
  private final Map<String, SignatureSpec> signatures;

  /** Serves an open separator (and closes it when closed). */
  public SeparatorServed(Separator separator) {
    this.separator = separator;
    this.signatures = Map.of(SIGNATURE, new SignatureSpec(SIGNATURE, "tensorflow/serving/predict",
        List.of(new TensorSpec(INPUT, "DT_FLOAT", IMAGE, "input_img:0")),
        List.of(new TensorSpec("decoded1", "DT_FLOAT", IMAGE, "decoded1:0"),
            new TensorSpec("decoded2", "DT_FLOAT", IMAGE, "decoded2:0"))));
  }

  @Override
  public Map<String, SignatureSpec> signatures() {
    return signatures;
  }

  @Override
  public String defaultSignature() {
    return SIGNATURE;
  }

  @Override
  public Map<String, FloatTensor> run(String signature, Map<String, FloatTensor> inputs) {
    FloatTensor in = inputs.get(INPUT);
    SeparationResult r = separator.separate(in.values(), in.rows());
    Map<String, FloatTensor> out = new LinkedHashMap<>();
    out.put("decoded1", new FloatTensor(in.shape(), r.decoded1()));
    out.put("decoded2", new FloatTensor(in.shape(), r.decoded2()));
    return out;
  }

  @Override
  public boolean separates() {
    return true;
  }

  @Override
  public List<String> separationOutputs() {
    return List.of("decoded1", "decoded2");
  }

  @Override
  public String description() {
    return separator.description();
  }

  @Override
  public void close() {
    separator.close();
  }
}
