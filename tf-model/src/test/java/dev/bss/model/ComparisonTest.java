package dev.bss.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ComparisonTest {

  @Test
  void reportsWorstElementAndMismatchCount() {
    float[] expected = {1f, 2f, 100f, -3f};
    float[] actual = {1f, 2.001f, 100.05f, -3f};
    Comparison c = Comparison.of(actual, expected, 1e-3, 1e-4);
    // 2.001: diff 1e-3 <= 1e-3 + 2e-4 passes; 100.05: diff 0.05 > 1e-3 + 1e-2 fails.
    assertEquals(1, c.mismatches());
    assertEquals(2, c.worstIndex());
    assertEquals(0.05, c.maxAbsDiff(), 1e-4);
    assertFalse(c.passed());
    assertArrayEquals(new long[] {1, 0}, c.worstIndex(new long[] {2, 2}));
    assertTrue(c.describe(new long[] {2, 2}).contains("worst at [1, 0]"), c.describe());
  }

  @Test
  void nanOnOneSideIsAMismatch() {
    Comparison c = Comparison.of(new float[] {Float.NaN, 1f}, new float[] {0f, 1f}, 1, 0);
    assertEquals(1, c.mismatches());
    // NaN is never within tolerance, even against NaN, and a NaN expected value cannot make the tolerance NaN.
    assertFalse(Comparison.of(new float[] {Float.NaN}, new float[] {Float.NaN}, 0, 0).passed());
    assertEquals(2, Comparison.of(new float[] {0.5f, 0.5f}, new float[] {Float.NaN, Float.NaN}, 1e-4, 1e-3)
        .mismatches());
  }
}
