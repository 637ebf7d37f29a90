package dev.bss.interop.keras;

import dev.bss.model.keras.ReferenceGraph;
import dev.bss.model.ModelConfig;
import dev.bss.model.WeightSet;
import dev.bss.model.WeightValidation;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Validates a {@link WeightSet} against the reference network of a config before anything trusts it: every
 * missing, unexpected, mis-shaped and non-finite weight is reported in one message.
 */
public final class WeightCheck {

  private WeightCheck() {}

  /** Every variable's Keras shape, in model.layers order, then the position embedding (see
   * {@link ReferenceGraph#expectedShapes}). */
  public static Map<String, long[]> expectedShapes(ModelConfig config) {
    return ReferenceGraph.expectedShapes(config);
  }

  /**
   * Checks names, shapes and values.
   *
   * @param where the file or source named in the message
   * @throws IllegalArgumentException listing every problem at once
   */
  public static void validate(WeightSet weights, ModelConfig config, String where) {
    WeightValidation.require(expectedShapes(config), weights, where, network(config));
  }

  /** Fails with {@link #validate}'s message format when a file lacks expected entries or has extra ones. */
  static void requireComplete(String where, ModelConfig config, List<String> missing, List<String> unexpected) {
    WeightValidation.requireNone(where, network(config), List.of(), missing, unexpected);
  }

  private static String network(ModelConfig config) {
    return "the network " + describe(config);
  }

  /** Short config text for messages: filters, embed, heads, ff, blocks. */
  public static String describe(ModelConfig c) {
    return "(filters " + Arrays.toString(c.filters()) + ", embed_dim " + c.embedDim() + ", num_heads " + c.numHeads()
        + ", ff_dim " + c.ffDim() + ", num_blocks " + c.numBlocks() + ", light_heads " + c.lightHeads()
        + ", light_ff_dim " + c.lightFfDim() + ", cbam_ratio " + c.cbamRatio() + ")";
  }
}
