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

  /** Largest --epochs. */
  public static final int MAX_EPOCHS = 100_000;
  /** Largest --epochs x --steps-per-epoch: the checkpoint keeps Keras's step count as float32, exact to 2^24. */
  public static final long MAX_STEPS = 1L << 24;
  /** Largest --batch-size (the seed's is 256; a batch's inputs alone are 12 KB a pair). */
  public static final int MAX_BATCH_SIZE = 65_536;
  /** Largest --validate and --eval-samples count (pairs held in memory at once, 12 KB each). */
  public static final int MAX_PAIRS = 100_000;
  /** Largest --eval-draws. */
  public static final int MAX_EVAL_DRAWS = 1_000;
  /** Largest --samples (columns of samples.png). */
  public static final int MAX_SAMPLE_COLUMNS = 256;

  public TrainOptions {
    if (fit == null) {
      fit = FitSettings.defaults(patience);
    }
    range("--epochs", epochs, 1, MAX_EPOCHS);
    range("--steps-per-epoch", stepsPerEpoch, 1, MAX_STEPS);
    range("--batch-size", batchSize, 1, MAX_BATCH_SIZE);
    if ((long) epochs * stepsPerEpoch > MAX_STEPS) {
      throw new IllegalArgumentException("--epochs x --steps-per-epoch: expected at most " + MAX_STEPS
          + " steps (Keras's float32 step count), found " + epochs + " x " + stepsPerEpoch);
    }
    if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
      throw new IllegalArgumentException("--lr: expected a positive number, found " + learningRate);
    }
    range("--patience", patience, 0, MAX_EPOCHS);
    range("--validate", validateSamples, 0, MAX_PAIRS);
    range("--samples", sampleCount, 0, MAX_SAMPLE_COLUMNS);
    range("--eval-draws", evalDraws, 0, MAX_EVAL_DRAWS);
    range("--eval-samples", evalSamples, evalDraws > 0 ? 1 : 0, MAX_PAIRS);
  }

  /**
   * Refuses {@code value} outside {@code [min, max]} with one line naming the option.
   *
   * @throws IllegalArgumentException e.g. {@code --batch-size: expected 1 to 65536, found 3000000}
   */
  public static void range(String option, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(option + ": expected " + min + " to " + max + ", found " + value);
    }
  }
}
