package dev.bss.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one chunked inference loop: chunk sizes, order of the outputs, bad lengths. */
class SeparationTest {

  @Test
  void separateAllRunsChunksOfAtMostChunkAndKeepsInputOrder() {
    int count = 2 * Separation.CHUNK + 7;
    float[] mixtures = new float[count * Separator.IMAGE_VALUES];
    for (int i = 0; i < mixtures.length; i++) {
      mixtures[i] = i;
    }
    List<Integer> calls = new ArrayList<>();
    Separation doubler = (m, n) -> {
      calls.add(n);
      float[] a = new float[m.length];
      float[] b = new float[m.length];
      for (int i = 0; i < m.length; i++) {
        a[i] = 2 * m[i];
        b[i] = -m[i];
      }
      return new SeparationResult(a, b);
    };
    SeparationResult r = doubler.separateAll(mixtures);
    assertEquals(List.of(Separation.CHUNK, Separation.CHUNK, 7), calls);
    for (int i = 0; i < mixtures.length; i++) {
      assertEquals(2f * i, r.decoded1()[i]);
      assertEquals(-(float) i, r.decoded2()[i]);
    }
    calls.clear();
    assertEquals(3, doubler.separateAll(new float[3 * Separator.IMAGE_VALUES]).count());
    assertEquals(List.of(3), calls);
  }

  @Test
  void separateAllRefusesAPartialImage() {
    Separation any = (m, n) -> new SeparationResult(m, m);
    var e = assertThrows(IllegalArgumentException.class, () -> any.separateAll(new float[1000]));
    assertTrue(e.getMessage().contains("found 1000"), e.getMessage());
  }
}
