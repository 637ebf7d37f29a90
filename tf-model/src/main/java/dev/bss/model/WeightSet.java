package dev.bss.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An ordered map from Keras variable path ({@code conv2d_5/kernel}, {@code multi_head_attention_1/query/kernel},
 * {@code batch_normalization_3/moving_variance}, and {@link #POSITION_EMBEDDING}) to its values.
 *
 * <p>This is what every importer produces and every exporter consumes; the model's
 * {@link VariableRegistry} assigns it to, and reads it from, a session.
 */
public final class WeightSet {

  /** Key of the frozen (or opt-in trainable) position embedding, shape {@code [1, 16, embed_dim]}. */
  public static final String POSITION_EMBEDDING = "pos_embedding";

  private final Map<String, Weight> weights = new LinkedHashMap<>();

  /** Adds or replaces one weight; insertion order is kept. */
  public WeightSet put(String path, Weight weight) {
    weights.put(path, weight);
    return this;
  }

  /** The weight at {@code path}, or null. */
  public Weight get(String path) {
    return weights.get(path);
  }

  public boolean contains(String path) {
    return weights.containsKey(path);
  }

  /** Paths in insertion order. */
  public Set<String> paths() {
    return Collections.unmodifiableSet(weights.keySet());
  }

  /** Read-only view, insertion order. */
  public Map<String, Weight> asMap() {
    return Collections.unmodifiableMap(weights);
  }

  public int size() {
    return weights.size();
  }

  /** Total number of values over all weights. */
  public long totalValues() {
    long n = 0;
    for (Weight w : weights.values()) {
      n += w.size();
    }
    return n;
  }
}
