package dev.bss.interop.keras;

import dev.bss.model.ModelConfig;
import dev.bss.model.WeightSet;

/**
 * What a Keras file yields: the network's config and its weights keyed by Keras path (position embedding included).
 *
 * @param config the config (given, read from {@code config.json}, or inferred from the weights' shapes)
 * @param weights every variable by Keras path, plus {@link WeightSet#POSITION_EMBEDDING}
 */
public record KerasModelWeights(ModelConfig config, WeightSet weights) {}
