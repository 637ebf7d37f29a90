package dev.bss.train.cli;

import dev.bss.interop.AtomicFiles;
import dev.bss.interop.SeparationResult;
import dev.bss.interop.Separator;
import dev.bss.interop.Separators;
import dev.bss.model.Weight;
import dev.bss.train.loop.Precision;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.tensorflow.proto.ConfigProto;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bss separate}: separates mixtures (PNG images or an .npy array) with a model in any format and writes,
 * per input, the two separated images as PNG plus one grid PNG (rows: mixture | decoded1 | decoded2).
 */
@Command(name = "separate", mixinStandardHelpOptions = true,
    description = {"Separates mixtures into an MNIST digit (decoded1) and a Fashion-MNIST item (decoded2).",
        "Inputs: grayscale PNGs of 32x32 (28x28 are zero-padded to 32x32) or --npy [N, 32, 32, 1] in [0, 1].",
        "Writes <name>_decoded1.png, <name>_decoded2.png per input and grid.png into --out."})
public final class SeparateCommand implements Callable<Integer> {

  /** Most inputs drawn in the grid. */
  static final int GRID_MAX = 64;

  /** Grid cell magnification. */
  static final int GRID_SCALE = 3;

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "PATH", description = "a model in any supported format")
  Path model;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Inputs inputs;

  /** Either images or an .npy file. */
  static final class Inputs {
    @Parameters(paramLabel = "IMAGE.png", arity = "1..*", description = "mixture images")
    List<Path> images;

    @Option(names = "--npy", paramLabel = "FILE.npy", description = "mixtures [N, 32, 32, 1] (or [N, 32, 32])")
    Path npy;
  }

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder (created)")
  Path out;



  @Option(names = "--precision", paramLabel = "float32|bf16", defaultValue = "float32", description = "float32 "
      + "(default) or bf16 (Keras's mixed_bfloat16; needs a CPU with AVX512_BF16 or AMX)")
  String precision;

  @Mixin ModelFileOptions modelOptions;

  @Override
  public Integer call() throws IOException {
    List<String> names = new ArrayList<>();
    float[] mixtures;
    if (inputs.npy != null) {
      Weight w = CompareCommand.readImages(inputs.npy, "--npy");
      mixtures = w.data();
      String stem = stem(inputs.npy);
      for (int i = 0; i < w.shape()[0]; i++) {
        names.add(String.format(Locale.ROOT, "%s_%04d", stem, i));
      }
    } else {
      mixtures = new float[inputs.images.size() * Separator.IMAGE_VALUES];
      for (int i = 0; i < inputs.images.size(); i++) {
        Path image = inputs.images.get(i);
        System.arraycopy(readPng(image), 0, mixtures, i * Separator.IMAGE_VALUES, Separator.IMAGE_VALUES);
        names.add(stem(image));
      }
      if (names.stream().distinct().count() != names.size()) {
        throw new Cli.UserException("IMAGE: two inputs have the same file name; outputs would overwrite each other");
      }
    }
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new Cli.UserException("--out " + out + ": exists and is not a directory");
    }
    SeparationResult result;
    String description;
    Precision mode = Precision.parse(precision);
    mode.checkSupported();
    try (Separator separator = mode == Precision.FLOAT32 ? modelOptions.open(model)
        : Separators.open(model, modelOptions.configOverride(), modelOptions.posEmbedding,
            mode.apply(ConfigProto.getDefaultInstance()))) {
      description = separator.description();
      result = CompareCommand.separateAll(separator, mixtures);
    }
    // Everything is written into a temporary folder first, then moved in: no partial output on failure.
    Path parent = out.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".");
    List<Path> written = new ArrayList<>();
    try {
      for (int i = 0; i < names.size(); i++) {
        writePng(image(result.decoded1(), i, 1), tmp.resolve(names.get(i) + "_decoded1.png"));
        writePng(image(result.decoded2(), i, 1), tmp.resolve(names.get(i) + "_decoded2.png"));
      }
      writePng(grid(mixtures, result, Math.min(GRID_MAX, names.size())), tmp.resolve("grid.png"));
      Files.createDirectories(out);
      try (var files = Files.list(tmp)) {
        for (Path f : files.toList()) {
          Path target = out.resolve(f.getFileName());
          Files.move(f, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
          written.add(target);
        }
      }
    } finally {
      AtomicFiles.deleteRecursively(tmp);
    }
    PrintWriter o = spec.commandLine().getOut();
    o.println("model: " + description);
    o.println("separated " + names.size() + " mixture(s) into " + out + " (" + (2 * names.size())
        + " images + grid.png" + (names.size() > GRID_MAX ? ", grid shows the first " + GRID_MAX : "") + ")");
    o.flush();
    return 0;
  }

  private static String stem(Path p) {
    String name = p.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  /** A grayscale PNG as 1024 values in [0, 1]; 28x28 images are zero-padded by 2 pixels like the training data. */
  static float[] readPng(Path file) {
    BufferedImage img;
    try {
      img = Files.isRegularFile(file) ? ImageIO.read(file.toFile()) : null;
    } catch (IOException e) {
      throw new Cli.UserException("IMAGE " + file + ": unreadable (" + e.getMessage() + ")");
    }
    if (img == null) {
      throw new Cli.UserException("IMAGE " + file + ": " + (Files.isRegularFile(file) ? "not an image ImageIO can read "
          + "(expected a PNG)" : "no such file"));
    }
    int w = img.getWidth();
    int h = img.getHeight();
    int pad;
    if (w == 32 && h == 32) {
      pad = 0;
    } else if (w == 28 && h == 28) {
      pad = 2;
    } else {
      throw new Cli.UserException("IMAGE " + file + ": expected a 32x32 (or 28x28) image, found " + w + "x" + h);
    }
    float[] values = new float[Separator.IMAGE_VALUES];
    BufferedImage gray = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    gray.getGraphics().drawImage(img, 0, 0, null);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        values[(y + pad) * 32 + x + pad] = gray.getRaster().getSample(x, y, 0) / 255f;
      }
    }
    return values;
  }

  private static BufferedImage image(float[] data, int index, int scale) {
    BufferedImage img = new BufferedImage(32 * scale, 32 * scale, BufferedImage.TYPE_BYTE_GRAY);
    paint(img, data, index, 0, 0, scale);
    return img;
  }

  private static void paint(BufferedImage img, float[] data, int index, int x0, int y0, int scale) {
    int base = index * Separator.IMAGE_VALUES;
    for (int y = 0; y < 32 * scale; y++) {
      for (int x = 0; x < 32 * scale; x++) {
        float v = data[base + (y / scale) * 32 + x / scale];
        int g = Math.round(Math.max(0f, Math.min(1f, Float.isNaN(v) ? 0f : v)) * 255f);
        img.getRaster().setSample(x0 + x, y0 + y, 0, g);
      }
    }
  }

  private static BufferedImage grid(float[] mixtures, SeparationResult r, int rows) {
    int cell = 32 * GRID_SCALE;
    int gap = 4;
    BufferedImage img = new BufferedImage(3 * cell + 4 * gap, rows * (cell + gap) + gap, BufferedImage.TYPE_BYTE_GRAY);
    float[][] columns = {mixtures, r.decoded1(), r.decoded2()};
    for (int row = 0; row < rows; row++) {
      for (int c = 0; c < 3; c++) {
        paint(img, columns[c], row, gap + c * (cell + gap), gap + row * (cell + gap), GRID_SCALE);
      }
    }
    return img;
  }

  private static void writePng(BufferedImage img, Path file) {
    try {
      if (!ImageIO.write(img, "png", file.toFile())) {
        throw new IllegalStateException("no PNG writer");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
