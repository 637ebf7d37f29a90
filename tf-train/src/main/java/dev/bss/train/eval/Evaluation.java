package dev.bss.train.eval;

import dev.bss.interop.Separation;
import dev.bss.interop.Separator;
import dev.bss.interop.SeparationResult;
import dev.bss.train.data.Batch;
import dev.bss.train.loop.PairData;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The seed's evaluation protocol: {@code draws} draws of {@code samples} test pairs; per draw
 * {@code mse1 = mean((p1 - y1)^2)}, {@code mse2 = mean((p2 - y2)^2)}, {@code combined = (mse1 + mse2) / 2}; then the
 * mean and (population) standard deviation over the draws, for the model and for the identity baseline (both
 * outputs = the mixture).
 */
public final class Evaluation {

  private Evaluation() {}

  /** Errors of one draw. */
  public record Draw(double mnist, double fashion, double combined) {}

  /** Mean and std over draws of one predictor. */
  public record Summary(List<Draw> draws, double mnistMean, double fashionMean, double combinedMean,
      double mnistStd, double fashionStd, double combinedStd) {

    static Summary of(List<Draw> draws) {
      double[] m = draws.stream().mapToDouble(Draw::mnist).toArray();
      double[] f = draws.stream().mapToDouble(Draw::fashion).toArray();
      double[] c = draws.stream().mapToDouble(Draw::combined).toArray();
      return new Summary(List.copyOf(draws), mean(m), mean(f), mean(c), std(m), std(f), std(c));
    }

    Map<String, Object> toMap() {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("mnist_mse_mean", mnistMean);
      map.put("mnist_mse_std", mnistStd);
      map.put("fashion_mse_mean", fashionMean);
      map.put("fashion_mse_std", fashionStd);
      map.put("combined_mse_mean", combinedMean);
      map.put("combined_mse_std", combinedStd);
      List<Map<String, Double>> list = new ArrayList<>();
      for (Draw d : draws) {
        // A fixed key order (Map.of's varies between runs), so run.json's text is reproducible.
        Map<String, Double> draw = new LinkedHashMap<>();
        draw.put("mnist_mse", d.mnist());
        draw.put("fashion_mse", d.fashion());
        draw.put("combined_mse", d.combined());
        list.add(draw);
      }
      map.put("draws", list);
      return map;
    }
  }

  /** The model's and the identity baseline's results on the same draws. */
  public record Report(int draws, int samples, long seed, Summary model, Summary identity) {

    /** How many times lower the model's combined MSE is than the identity baseline's. */
    public double improvement() {
      return identity.combinedMean() / model.combinedMean();
    }

    /** For {@code --json} and run.json. */
    public Map<String, Object> toMap() {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("draws", draws);
      map.put("samples", samples);
      map.put("seed", seed);
      map.put("model", model.toMap());
      map.put("identity_baseline", identity.toMap());
      map.put("improvement_over_identity", improvement());
      return map;
    }

    /** A human-readable table. */
    public String toText() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(Locale.ROOT, "evaluation: %d draws of %d test pairs (seed %d)%n", draws, samples, seed));
      sb.append(String.format(Locale.ROOT, "  %-6s %12s %12s %12s%n", "draw", "MNIST", "Fashion", "combined"));
      for (int i = 0; i < model.draws().size(); i++) {
        Draw d = model.draws().get(i);
        sb.append(String.format(Locale.ROOT, "  %-6d %12.7f %12.7f %12.7f%n", i + 1, d.mnist(), d.fashion(),
            d.combined()));
      }
      sb.append(String.format(Locale.ROOT, "  %-6s %12.7f %12.7f %12.7f%n", "mean", model.mnistMean(),
          model.fashionMean(), model.combinedMean()));
      sb.append(String.format(Locale.ROOT, "  %-6s %12.2e %12.2e %12.2e%n", "std", model.mnistStd(),
          model.fashionStd(), model.combinedStd()));
      sb.append(String.format(Locale.ROOT, "  identity baseline (outputs = mixture): MNIST %.7f, Fashion %.7f, "
          + "combined %.7f (std %.2e)%n", identity.mnistMean(), identity.fashionMean(), identity.combinedMean(),
          identity.combinedStd()));
      if (improvement() >= 1) {
        sb.append(String.format(Locale.ROOT, "  model combined MSE is %.1fx lower than the identity baseline%n",
            improvement()));
      } else {
        sb.append(String.format(Locale.ROOT, "  model combined MSE is %.1fx HIGHER than the identity baseline "
            + "(untrained or broken model?)%n", 1 / improvement()));
      }
      return sb.toString();
    }
  }

  /** Runs the protocol on {@code draws} consecutive draws of {@code test}, separating each draw with
   * {@link Separation#separateAll}. */
  public static Report run(Separation predictor, PairData.BatchStream test, int draws, int samples, long seed) {
    if (draws <= 0 || samples <= 0) {
      throw new IllegalArgumentException("evaluation: --draws and --samples must be positive, found " + draws
          + " and " + samples);
    }
    List<Draw> modelDraws = new ArrayList<>();
    List<Draw> identityDraws = new ArrayList<>();
    try (Batch batch = Batch.allocate(samples)) {
      for (int d = 0; d < draws; d++) {
        test.fill(batch);
        float[] mixture = batch.mixtureValues();
        float[] mnist = batch.mnistValues();
        float[] fashion = batch.fashionValues();
        SeparationResult pred = predictor.separateAll(mixture);
        modelDraws.add(draw(pred.decoded1(), pred.decoded2(), mnist, fashion, samples));
        identityDraws.add(draw(mixture, mixture, mnist, fashion, samples));
      }
    }
    return new Report(draws, samples, seed, Summary.of(modelDraws), Summary.of(identityDraws));
  }

  private static Draw draw(float[] p1, float[] p2, float[] mnist, float[] fashion, int samples) {
    int n = samples * Separator.IMAGE_VALUES;
    double mse1 = mse(p1, mnist, n);
    double mse2 = mse(p2, fashion, n);
    return new Draw(mse1, mse2, (mse1 + mse2) / 2);
  }

  /** Mean squared error over the first {@code n} values, accumulated in double. */
  public static double mse(float[] prediction, float[] target, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      double d = (double) prediction[i] - target[i];
      sum += d * d;
    }
    return sum / n;
  }

  private static double mean(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s / v.length;
  }

  private static double std(double[] v) {
    double m = mean(v);
    double s = 0;
    for (double x : v) {
      s += (x - m) * (x - m);
    }
    return Math.sqrt(s / v.length);
  }
}
