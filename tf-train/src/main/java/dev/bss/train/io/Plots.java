package dev.bss.train.io;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/** PNG figures of a run: the loss curves (XChart) and the seed's sample grid (mixture, truths, predictions). */
public final class Plots {

  /** Side of one image in the grid, in pixels (32 x 32 scaled by 3). */
  private static final int CELL = 96;
  private static final int LABEL_WIDTH = 110;
  private static final int GAP = 4;

  private Plots() {}

  /** Plots every loss-like metric of {@code history} against the 1-based epoch, log scale, as a PNG. */
  public static void lossPlot(Path file, List<Map<String, Double>> history) {
    System.setProperty("java.awt.headless", "true");
    XYChart chart = new XYChartBuilder().width(900).height(560).title("Training loss")
        .xAxisTitle("epoch").yAxisTitle("MSE").build();
    chart.getStyler().setYAxisLogarithmic(true);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setMarkerSize(4);
    for (String key : HistoryCsv.keys(history)) {
      if (!key.endsWith("loss")) {
        continue;
      }
      List<Double> xs = new ArrayList<>();
      List<Double> ys = new ArrayList<>();
      for (int e = 0; e < history.size(); e++) {
        Double v = history.get(e).get(key);
        if (v != null && v > 0 && Double.isFinite(v)) {
          xs.add(e + 1.0);
          ys.add(v);
        }
      }
      if (!xs.isEmpty()) {
        chart.addSeries(key, xs, ys);
      }
    }
    if (chart.getSeriesMap().isEmpty()) {
      chart.addSeries("loss", new double[] {1}, new double[] {1});
    }
    PngImages.write(file, BitmapEncoder.getBufferedImage(chart));
  }

  /**
   * The seed's figure: one column per sample, rows mixture, MNIST truth, Fashion truth, prediction 1, prediction 2.
   * Every array holds {@code count} images of 32 x 32 values in [0, 1], row-major.
   */
  public static void sampleGrid(Path file, int count, float[] mixture, float[] mnistTarget, float[] fashionTarget,
      float[] decoded1, float[] decoded2) {
    System.setProperty("java.awt.headless", "true");
    String[] labels = {"mixture", "MNIST", "Fashion", "decoded1", "decoded2"};
    float[][] rows = {mixture, mnistTarget, fashionTarget, decoded1, decoded2};
    int width = LABEL_WIDTH + count * (CELL + GAP);
    int height = rows.length * (CELL + GAP) + GAP;
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    for (int r = 0; r < rows.length; r++) {
      int top = GAP + r * (CELL + GAP);
      g.setColor(Color.BLACK);
      g.drawString(labels[r], 6, top + CELL / 2 + 5);
      for (int c = 0; c < count; c++) {
        int left = LABEL_WIDTH + c * (CELL + GAP);
        PngImages.paint(image, rows[r], c, left, top, CELL / 32);
      }
    }
    g.dispose();
    PngImages.write(file, image);
  }
}
