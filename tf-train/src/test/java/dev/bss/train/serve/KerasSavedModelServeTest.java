package dev.bss.train.serve;

import static dev.bss.train.serve.ServeFixtures.get;
import static dev.bss.train.serve.ServeFixtures.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A Keras-made SavedModel of another architecture ({@code fashion_autoencoder}, tf.keras 2.14) and one with three
 * outputs ({@code fashion_vae_encoder}) served through their signatures; the README's reference sums must come back.
 */
class KerasSavedModelServeTest {

  /** The README's "pattern" input as nested JSON [32][32][1]. */
  private static String pattern() {
    StringBuilder sb = new StringBuilder("[");
    for (int y = 0; y < 32; y++) {
      sb.append(y == 0 ? "[" : ", [");
      for (int x = 0; x < 32; x++) {
        int k = y * 32 + x;
        sb.append(x == 0 ? "[" : ", [").append(((37 * k) % 101) / 100f).append(']');
      }
      sb.append(']');
    }
    return sb.append(']').toString();
  }

  private static double sum(JsonElement e) {
    if (e.isJsonArray()) {
      double s = 0;
      for (JsonElement x : e.getAsJsonArray()) {
        s += sum(x);
      }
      return s;
    }
    return e.getAsDouble();
  }

  @Test
  void fashionAutoencoderAnswersBothFormats() throws Exception {
    Path dir = ServeFixtures.sharedSavedModel("fashion_autoencoder");
    try (SavedModelServed model = new SavedModelServed(dir, null, false)) {
      ServeServer server = new ServeServer(model, ServeFixtures.options("fashion", 64, 2_000));
      try {
        URI base = server.uri();
        JsonObject meta = JsonParser.parseString(get(base, "/v1/models/fashion/metadata").body()).getAsJsonObject();
        JsonObject sig = meta.getAsJsonObject("metadata").getAsJsonObject("signature_def")
            .getAsJsonObject("signature_def").getAsJsonObject("serving_default");
        assertEquals("serving_default_encoder_input:0",
            sig.getAsJsonObject("inputs").getAsJsonObject("encoder_input").get("name").getAsString());
        assertTrue(sig.getAsJsonObject("outputs").has("model_3"), sig.toString());

        // Row format, one output: predictions are the output's values per instance (no key).
        HttpResponse<String> row = post(base, "/v1/models/fashion:predict", "{\"instances\": [" + pattern() + "]}");
        assertEquals(200, row.statusCode(), row.body());
        JsonArray predictions = JsonParser.parseString(row.body()).getAsJsonObject().getAsJsonArray("predictions");
        assertEquals(1, predictions.size());
        assertTrue(predictions.get(0).isJsonArray(), "a single output is not keyed");
        assertEquals(371.4917, sum(predictions.get(0)), 1e-2); // the fixture README's number
        // Columnar with the input named.
        HttpResponse<String> col = post(base, "/v1/models/fashion:predict",
            "{\"inputs\": {\"encoder_input\": [" + pattern() + "]}}");
        JsonElement outputs = JsonParser.parseString(col.body()).getAsJsonObject().get("outputs");
        assertTrue(outputs.isJsonArray(), col.body().substring(0, 100));
        assertEquals(371.4917, sum(outputs), 1e-2);
        // Not a separation model: /v1/separate says so; wrong input name in the row format.
        HttpResponse<String> sep = ServeFixtures.post(base, "/v1/separate", new byte[] {1});
        assertEquals(400, sep.statusCode());
        assertTrue(sep.body().contains("not a separation model"), sep.body());
        HttpResponse<String> bad = post(base, "/v1/models/fashion:predict",
            "{\"instances\": [{\"wrong\": " + pattern() + "}]}");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("does not have named input: wrong"), bad.body());
      } finally {
        server.close();
      }
    }
  }

  @Test
  void threeOutputsAreKeyedByName() throws Exception {
    Path dir = ServeFixtures.sharedSavedModel("fashion_vae_encoder");
    try (SavedModelServed model = new SavedModelServed(dir, null, false)) {
      assertFalse(model.separates());
      ServeServer server = new ServeServer(model, ServeFixtures.options("vae", 64, 2_000));
      try {
        HttpResponse<String> r = post(server.uri(), "/v1/models/vae:predict",
            "{\"instances\": [" + pattern() + ", " + pattern() + "]}");
        assertEquals(200, r.statusCode(), r.body());
        JsonArray predictions = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonArray("predictions");
        assertEquals(2, predictions.size());
        JsonObject first = predictions.get(0).getAsJsonObject();
        assertEquals(java.util.Set.of("sampling_3", "z_log_var", "z_mean"), first.keySet());
        assertEquals(2, first.getAsJsonArray("z_mean").size());
      } finally {
        server.close();
      }
    }
  }
}
