package dev.bss.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Hyperparameters of the separation network; {@link #seed()} is the reference notebook's network.
 *
 * <p>Field names follow the keys of {@code shared/keras-reference/tiny.json} ({@code filters},
 * {@code embed_dim}, ...), so a config file written for the Python reference reads unchanged.
 *
 * @param filters encoder widths of the three UNet levels, e.g. {@code [32, 64, 128]}
 * @param embedDim token width of the bottleneck transformer (Keras {@code embed_dim})
 * @param numHeads attention heads in the bottleneck (key_dim = embedDim per head)
 * @param ffDim hidden width of the bottleneck feed-forward
 * @param numBlocks number of bottleneck transformer blocks
 * @param lightHeads attention heads of the autoencoder sub-block transformer
 * @param lightFfDim hidden width of the autoencoder sub-block feed-forward
 * @param cbamRatio channel reduction ratio of CBAM's shared dense pair
 * @param lnEpsilon LayerNormalization epsilon
 * @param dropout dropout rate in the transformer blocks (training only)
 * @param trainablePositionEmbedding opt-in variant: train the position embedding (the seed keeps it frozen)
 */
public record ModelConfig(
    int[] filters,
    int embedDim,
    int numHeads,
    int ffDim,
    int numBlocks,
    int lightHeads,
    int lightFfDim,
    int cbamRatio,
    double lnEpsilon,
    double dropout,
    boolean trainablePositionEmbedding) {

  /** Side of the square input and output images. */
  public static final int IMAGE_SIZE = 32;

  /** Values in one {@code IMAGE_SIZE x IMAGE_SIZE x 1} image: the one definition every module uses. */
  public static final int IMAGE_VALUES = IMAGE_SIZE * IMAGE_SIZE;

  /** Number of bottleneck tokens (4 x 4 after three 2x poolings of 32 x 32). */
  public static final int TOKENS = 16;

  /** Largest width (filters, embed_dim, ff_dim, light_ff_dim) a config may ask for; the seed's largest is 640. */
  public static final int MAX_WIDTH = 16384;

  /** Largest head or block count a config may ask for. */
  public static final int MAX_COUNT = 256;

  /** Largest estimated parameter count (2^28, 1 GiB of float32; the seed has 4,491,402). */
  public static final long MAX_PARAMETERS = 1L << 28;

  public ModelConfig {
    filters = filters == null ? null : filters.clone();
    validate(filters, embedDim, numHeads, ffDim, numBlocks, lightHeads, lightFfDim, cbamRatio, lnEpsilon, dropout);
  }

  /** The reference notebook's network: 4,491,402 parameters. */
  public static ModelConfig seed() {
    return new ModelConfig(new int[] {32, 64, 128}, 192, 4, 640, 3, 2, 128, 16, 1e-6, 0.1, false);
  }

  /** The small test network of {@code shared/keras-reference/tiny.json}: 132,066 parameters. */
  public static ModelConfig tiny() {
    return new ModelConfig(new int[] {8, 16, 32}, 24, 2, 40, 3, 2, 24, 4, 1e-6, 0.1, false);
  }

  /**
   * Builds a config from a parsed JSON object (keys as in {@code tiny.json}); absent keys take the seed's values.
   *
   * @throws IllegalArgumentException naming the key when a value has the wrong type or the config is inconsistent
   */
  public static ModelConfig fromMap(Map<String, ?> map) {
    ModelConfig s = seed();
    for (String key : map.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("model config: unknown key '" + key + "', expected one of " + KEYS);
      }
    }
    int[] filters = s.filters();
    Object f = map.get("filters");
    if (f != null) {
      if (!(f instanceof List<?> list) || list.size() != 3) {
        throw new IllegalArgumentException("model config: 'filters' must be a list of 3 integers, found " + f);
      }
      filters = new int[3];
      for (int i = 0; i < 3; i++) {
        filters[i] = toInt("filters[" + i + "]", list.get(i));
      }
    }
    return new ModelConfig(
        filters,
        intOr(map, "embed_dim", s.embedDim()),
        intOr(map, "num_heads", s.numHeads()),
        intOr(map, "ff_dim", s.ffDim()),
        intOr(map, "num_blocks", s.numBlocks()),
        intOr(map, "light_heads", s.lightHeads()),
        intOr(map, "light_ff_dim", s.lightFfDim()),
        intOr(map, "cbam_ratio", s.cbamRatio()),
        doubleOr(map, "ln_epsilon", s.lnEpsilon()),
        doubleOr(map, "dropout", s.dropout()),
        map.containsKey("trainable_pos_embedding") && Boolean.TRUE.equals(map.get("trainable_pos_embedding")));
  }

  /** The config as an ordered map with the keys of {@code tiny.json} (for JSON provenance files). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("filters", Arrays.stream(filters).boxed().toList());
    m.put("embed_dim", embedDim);
    m.put("num_heads", numHeads);
    m.put("ff_dim", ffDim);
    m.put("num_blocks", numBlocks);
    m.put("light_heads", lightHeads);
    m.put("light_ff_dim", lightFfDim);
    m.put("cbam_ratio", cbamRatio);
    m.put("ln_epsilon", lnEpsilon);
    m.put("dropout", dropout);
    m.put("trainable_pos_embedding", trainablePositionEmbedding);
    return m;
  }

  /** A copy with another dropout rate (0 disables dropout); the weights do not depend on it. */
  public ModelConfig withDropout(double rate) {
    return new ModelConfig(filters, embedDim, numHeads, ffDim, numBlocks, lightHeads, lightFfDim, cbamRatio,
        lnEpsilon, rate, trainablePositionEmbedding);
  }

  /** A copy with the trainable position embedding variant switched on or off. */
  public ModelConfig withTrainablePositionEmbedding(boolean trainable) {
    return new ModelConfig(filters, embedDim, numHeads, ffDim, numBlocks, lightHeads, lightFfDim, cbamRatio,
        lnEpsilon, dropout, trainable);
  }

  @Override
  public int[] filters() {
    return filters.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelConfig c && toMap().equals(c.toMap());
  }

  @Override
  public int hashCode() {
    return toMap().hashCode();
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "ModelConfig%s", toMap());
  }

  private static final List<String> KEYS = List.of("filters", "embed_dim", "num_heads", "ff_dim", "num_blocks",
      "light_heads", "light_ff_dim", "cbam_ratio", "ln_epsilon", "dropout", "trainable_pos_embedding");

  private static void validate(int[] filters, int embedDim, int numHeads, int ffDim, int numBlocks, int lightHeads,
      int lightFfDim, int cbamRatio, double lnEpsilon, double dropout) {
    if (filters == null || filters.length != 3) {
      throw new IllegalArgumentException("model config: 'filters' must hold 3 widths, found "
          + (filters == null ? "null" : Arrays.toString(filters)));
    }
    for (int i = 0; i < 3; i++) {
      if (filters[i] <= 0) {
        throw new IllegalArgumentException("model config: filters[" + i + "] must be > 0, found " + filters[i]);
      }
    }
    positive("embed_dim", embedDim);
    positive("num_heads", numHeads);
    positive("ff_dim", ffDim);
    positive("num_blocks", numBlocks);
    positive("light_heads", lightHeads);
    positive("light_ff_dim", lightFfDim);
    positive("cbam_ratio", cbamRatio);
    for (int i = 0; i < 3; i++) {
      if (filters[i] / cbamRatio < 1) {
        throw new IllegalArgumentException("model config: CBAM on " + filters[i] + " channels with cbam_ratio "
            + cbamRatio + " leaves no hidden unit (filters[" + i + "] // cbam_ratio must be >= 1)");
      }
    }
    for (int i = 0; i < 3; i++) {
      atMost("filters[" + i + "]", filters[i], MAX_WIDTH);
    }
    atMost("embed_dim", embedDim, MAX_WIDTH);
    atMost("ff_dim", ffDim, MAX_WIDTH);
    atMost("light_ff_dim", lightFfDim, MAX_WIDTH);
    atMost("num_heads", numHeads, MAX_COUNT);
    atMost("light_heads", lightHeads, MAX_COUNT);
    atMost("num_blocks", numBlocks, MAX_COUNT);
    long parameters = parameterEstimate(filters, embedDim, numHeads, ffDim, numBlocks, lightHeads, lightFfDim);
    if (parameters > MAX_PARAMETERS) {
      throw new IllegalArgumentException("model config: filters " + Arrays.toString(filters) + ", embed_dim "
          + embedDim + ", num_heads " + numHeads + ", ff_dim " + ffDim + ", num_blocks " + numBlocks + ", light_heads "
          + lightHeads + ", light_ff_dim " + lightFfDim + " need about " + parameters + " parameters, more than the "
          + MAX_PARAMETERS + " accepted (the seed network has 4,491,402)");
    }
    if (!(lnEpsilon > 0)) {
      throw new IllegalArgumentException("model config: 'ln_epsilon' must be > 0, found " + lnEpsilon);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("model config: 'dropout' must be in [0, 1), found " + dropout);
    }
  }

  private static void atMost(String key, int value, int max) {
    if (value > max) {
      throw new IllegalArgumentException("model config: '" + key + "' must be <= " + max + ", found " + value);
    }
  }

  /**
   * The dominant terms of the parameter count (kernels of the convolutions, dense layers and attention), an
   * estimate within a few percent that is checked before any graph or tensor is built.
   */
  static long parameterEstimate(int[] f, int embed, int heads, int ff, int blocks, int lightHeads, int lightFf) {
    long f0 = f[0];
    long f1 = f[1];
    long f2 = f[2];
    long e = embed;
    long encoder = 9 * (f0 + f0 * f0 + f0 * f1 + f1 * f1 + f1 * f2 + f2 * f2);
    long bottleneck = f2 * e + blocks * (4 * e * heads * e + 2 * e * ff);
    long decoder = 9 * (e * f2 + 2 * f2 * f2 + f2 * f1 + 2 * f1 * f1 + 2 * f1 * f1 + f1 * f0 + 2 * f0 * f0 + f0)
        + 4 * f1 * lightHeads * f1 + 2 * f1 * lightFf;
    return encoder + bottleneck + 2 * decoder;
  }

  private static void positive(String key, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException("model config: '" + key + "' must be > 0, found " + value);
    }
  }

  private static int intOr(Map<String, ?> map, String key, int fallback) {
    return map.containsKey(key) ? toInt(key, map.get(key)) : fallback;
  }

  private static double doubleOr(Map<String, ?> map, String key, double fallback) {
    Object v = map.get(key);
    if (v == null) {
      return fallback;
    }
    if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw new IllegalArgumentException("model config: '" + key + "' must be a finite number, found " + v);
    }
    return n.doubleValue();
  }

  private static int toInt(String key, Object v) {
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw new IllegalArgumentException("model config: '" + key + "' must be an integer, found " + v);
    }
    if (Math.abs(n.doubleValue()) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("model config: '" + key + "' is out of range, found " + v);
    }
    return n.intValue();
  }
}
