package dev.bss.train.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The predict JSON parser without a server: multiple named inputs, and memory bounded by the values, not a tree. */
class PredictJsonTest {

  /** A stub with one signature of two inputs a [-1, 2] and b [-1] and a second signature of one input x [-1]. */
  private static final ServedModel STUB = new ServedModel() {
    @Override
    public Map<String, SignatureSpec> signatures() {
      return Map.of("serving_default", new SignatureSpec("serving_default", "tensorflow/serving/predict",
          List.of(new TensorSpec("a", "DT_FLOAT", new long[] {-1, 2}, "a:0"),
              new TensorSpec("b", "DT_FLOAT", new long[] {-1}, "b:0")), List.of()),
          "flat", new SignatureSpec("flat", "tensorflow/serving/predict",
              List.of(new TensorSpec("x", "DT_FLOAT", new long[] {-1}, "x:0")), List.of()));
    }

    @Override
    public String defaultSignature() {
      return "serving_default";
    }

    @Override
    public Map<String, FloatTensor> run(String signature, Map<String, FloatTensor> inputs) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean separates() {
      return false;
    }

    @Override
    public List<String> separationOutputs() {
      return List.of();
    }

    @Override
    public String description() {
      return "stub";
    }

    @Override
    public void close() {}
  };

  @Test
  void namedInputsInBothFormats() {
    PredictJson.Request row = PredictJson.parse("{\"instances\": [{\"a\": [1, 2], \"b\": 3}, {\"b\": 6, \"a\": [4, "
        + "5]}]}", STUB);
    assertEquals(PredictJson.Format.ROW, row.format());
    assertArrayEquals(new long[] {2, 2}, row.inputs().get("a").shape());
    assertArrayEquals(new float[] {1, 2, 4, 5}, row.inputs().get("a").values());
    assertArrayEquals(new float[] {3, 6}, row.inputs().get("b").values());
    PredictJson.Request col = PredictJson.parse("{\"inputs\": {\"a\": [[1, 2]], \"b\": [3]}, \"extra\": {}}", STUB);
    assertEquals(PredictJson.Format.COLUMNAR, col.format());
    assertArrayEquals(new long[] {1, 2}, col.inputs().get("a").shape());
    ServeError plain = assertThrows(ServeError.class, () -> PredictJson.parse("{\"instances\": [[1, 2]]}", STUB));
    assertTrue(plain.getMessage().startsWith("instances is a plain list, but expecting list of objects"),
        plain.getMessage());
    ServeError missing = assertThrows(ServeError.class, () -> PredictJson.parse("{\"inputs\": {\"a\": [[1, 2]]}}",
        STUB));
    assertEquals("Missing named input: b in 'inputs' object.", missing.getMessage());
    ServeError keys = assertThrows(ServeError.class, () -> PredictJson.parse("{\"instances\": [{\"a\": [1, 2], "
        + "\"b\": 3}, {\"a\": [1, 2]}]}", STUB));
    assertTrue(keys.getMessage().startsWith("Failed to process element: 1 of 'instances' list"), keys.getMessage());
    ServeError mixed = assertThrows(ServeError.class, () -> PredictJson.parse("{\"signature_name\": \"flat\", "
        + "\"instances\": [1, {\"x\": 1}]}", STUB));
    assertEquals("Expecting value/list but got object at item 1 of input list", mixed.getMessage());
  }

  @Test
  void aLargeBodyCostsItsFloatsNotAJsonTree() {
    int n = 4_000_000;
    StringBuilder sb = new StringBuilder(2 * n + 64).append("{\"signature_name\": \"flat\", \"inputs\": [");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "0" : ",1");
    }
    String body = sb.append("]}").toString();
    Runtime rt = Runtime.getRuntime();
    System.gc();
    long before = rt.totalMemory() - rt.freeMemory();
    PredictJson.Request r = PredictJson.parse(body, STUB);
    System.gc();
    long retained = rt.totalMemory() - rt.freeMemory() - before;
    assertEquals(n, r.inputs().get("x").values().length);
    // 4 bytes a value (16 MB) plus slack; a JSON tree would hold about 85 bytes a value (340 MB).
    System.out.printf("8 MB body of %d numbers: %.1f MB retained after parsing%n", n, retained / 1e6);
    assertTrue(retained < 64_000_000, "retained " + retained + " bytes");
  }
}
