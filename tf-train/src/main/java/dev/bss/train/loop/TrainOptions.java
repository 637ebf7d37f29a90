package dev.bss.train.loop;

import dev.bss.model.ModelConfig;
import java.nio.file.Path;

/**
 * Everything a training run needs besides its data.
 *
 * @param config the network
 * @param preset name of the preset the values came from ({@code quick}, {@code seed})
 * @param epochs maximum number of epochs
 * @param stepsPerEpoch batches per epoch
 * @param batchSize pairs per batch
 * @param learningRate initial Adam learning rate
 * @param seed run seed: initial weights, data draws (per epoch) and dropout masks (per step) derive from it
 * @param patience EarlyStopping and ReduceLROnPlateau patience (the seed: 5)
 * @param out output folder
 * @param resume continue from the last complete checkpoint of {@code out}
 * @param validateSamples test pairs evaluated after each epoch (val_* metrics); 0 = no validation
 * @param sampleCount columns of the sample grid
 * @param evalDraws evaluation draws at the end (the seed: 10); 0 = none
 * @param evalSamples pairs per evaluation draw (the seed: 5,000)
 * @param fit callbacks' knobs, initial weights, pairs file, dropout override ({@link FitSettings})
 */
public record TrainOptions(
    ModelConfig config,
    String preset,
    int epochs,
    int stepsPerEpoch,
    int batchSize,
    double learningRate,
    long seed,
    int patience,
    Path out,
    boolean resume,
    int validateSamples,
    int sampleCount,
    int evalDraws,
    int evalSamples,
    FitSettings fit) {

  /** Options with the seed's callbacks at {@code patience}, seeded initial weights and generated mixtures. */
  public TrainOptions(ModelConfig config, String preset, int epochs, int stepsPerEpoch, int batchSize,
      double learningRate, long seed, int patience, Path out, boolean resume, int validateSamples, int sampleCount,
      int evalDraws, int evalSamples) {
    this(config, preset, epochs, stepsPerEpoch, batchSize, learningRate, seed, patience, out, resume,
        validateSamples, sampleCount, evalDraws, evalSamples, FitSettings.defaults(patience));
  }

  public TrainOptions {
    if (fit == null) {
      fit = FitSettings.defaults(patience);
    }
    positive("--epochs", epochs);
    positive("--steps-per-epoch", stepsPerEpoch);
    positive("--batch-size", batchSize);
    if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
      throw new IllegalArgumentException("--lr: expected a positive number, found " + learningRate);
    }
    if (patience < 0 || validateSamples < 0 || sampleCount < 0 || evalDraws < 0 || evalSamples < 0) {
      throw new IllegalArgumentException("patience, validation, sample and evaluation counts must be >= 0");
    }
  }

  private static void positive(String flag, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(flag + ": expected a positive integer, found " + value);
    }
  }
}
