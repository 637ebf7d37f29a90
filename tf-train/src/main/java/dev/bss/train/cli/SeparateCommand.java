package dev.bss.train.cli;

import dev.bss.interop.AtomicFiles;
import dev.bss.interop.Separation;
import dev.bss.interop.SeparationResult;
import dev.bss.interop.Separator;
import dev.bss.interop.numpy.Npy;
import dev.bss.train.loop.Precision;
import dev.bss.train.io.PngImages;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
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
 * per input, the two separated images as PNG plus one grid PNG (rows: mixture | decoded1 | decoded2); with
 * {@code --npy}, also {@code decoded1.npy} and {@code decoded2.npy} (float32 {@code [N, 32, 32, 1]}, input order).
 * {@code --no-png} skips the images.
 */
@Command(name = "separate", mixinStandardHelpOptions = true,
    description = {"Separates mixtures into an MNIST digit (decoded1) and a Fashion-MNIST item (decoded2).",
        "Inputs: PNG images of 32x32 (28x28 are zero-padded to 32x32; colour is converted to gray, alpha composited",
        "over black; other image formats are refused) or --npy [N, 32, 32, 1] (or [N, 32, 32]) float in [0, 1]",
        "or uint8 0-255 (divided by 255), streamed in chunks.",
        "Writes <name>_decoded1.png, <name>_decoded2.png per input and grid.png into --out; with --npy also "
            + "decoded1.npy and decoded2.npy (float32 [N, 32, 32, 1], input order). --no-png skips the images."})
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

  @Option(names = "--no-png", description = "write no images (with --npy: only decoded1.npy and decoded2.npy)")
  boolean noPng;



  @Option(names = "--precision", paramLabel = "float32|bf16", defaultValue = "float32", description = "float32 "
      + "(default) or bf16 (Keras's mixed_bfloat16; needs a CPU with AVX512_BF16 or AMX)")
  String precision;

  @Mixin ModelFileOptions modelOptions;

  @Override
  public Integer call() throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    MixtureInputs npy = null;
    List<Path> images = List.of();
    long count;
    String npyStem = null;
    if (inputs.npy != null) {
      npy = MixtureInputs.open(inputs.npy, "--npy", err);
      count = npy.count();
      npyStem = stem(inputs.npy);
    } else {
      images = inputs.images;
      count = images.size();
      List<String> stems = images.stream().map(SeparateCommand::stem).toList();
      if (stems.stream().distinct().count() != stems.size()) {
        throw new Cli.UserException("IMAGE: two inputs have the same file name; outputs would overwrite each other");
      }
    }
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new Cli.UserException("--out " + out + ": exists and is a file, expected a folder");
    }
    Path outParent = out.toAbsolutePath().getParent();
    if (outParent != null && Files.exists(outParent) && !Files.isDirectory(outParent)) {
      throw new Cli.UserException("--out " + out + ": " + outParent + " is a file, not a folder");
    }
    Precision mode = Precision.parse(precision);
    mode.checkSupported();
    // Images are few: read (and validate) them all before the model is opened.
    float[] imageMixtures = null;
    if (npy == null) {
      imageMixtures = new float[images.size() * Separator.IMAGE_VALUES];
      for (int i = 0; i < images.size(); i++) {
        System.arraycopy(readImage(images.get(i)), 0, imageMixtures, i * Separator.IMAGE_VALUES,
            Separator.IMAGE_VALUES);
      }
    }
    int gridRows = (int) Math.min(GRID_MAX, count);
    float[][] grid = new float[3][gridRows * Separator.IMAGE_VALUES];
    String description;
    // Everything is written into a temporary folder first, then moved in: no partial output on failure. Mixtures are
    // read, separated and written one chunk at a time, so a large --npy streams in bounded memory.
    Path tmp = AtomicFiles.createTemporaryDirectory(out);
    try {
      // The outputs as arrays, in input order, for comparisons in Python without PNG rounding; written per chunk.
      long[] shape = {count, 32, 32, 1};
      try (Separator separator = modelOptions.open(model,
              mode == Precision.FLOAT32 ? null : mode.apply(ConfigProto.getDefaultInstance()));
          Npy.FloatWriter decoded1 = npy == null ? null : new Npy.FloatWriter(tmp.resolve("decoded1.npy"), shape);
          Npy.FloatWriter decoded2 = npy == null ? null : new Npy.FloatWriter(tmp.resolve("decoded2.npy"), shape)) {
        description = separator.description();
        int per = Separator.IMAGE_VALUES;
        for (long start = 0; start < count; start += Separation.CHUNK) {
          int n = (int) Math.min(Separation.CHUNK, count - start);
          float[] mixtures = npy != null ? npy.read(start, n)
              : Arrays.copyOfRange(imageMixtures, (int) start * per, (int) (start + n) * per);
          SeparationResult result = separator.separate(mixtures, n);
          if (decoded1 != null) {
            decoded1.write(result.decoded1(), 0, n * per);
            decoded2.write(result.decoded2(), 0, n * per);
          }
          for (int i = 0; i < n; i++) {
            long index = start + i;
            String name = npy != null ? String.format(Locale.ROOT, "%s_%04d", npyStem, index)
                : stem(images.get((int) index));
            if (!noPng) {
              PngImages.write(tmp.resolve(name + "_decoded1.png"), PngImages.grayImage(result.decoded1(), i, 1));
              PngImages.write(tmp.resolve(name + "_decoded2.png"), PngImages.grayImage(result.decoded2(), i, 1));
            }
            if (index < gridRows) {
              int at = (int) index * per;
              System.arraycopy(mixtures, i * per, grid[0], at, per);
              System.arraycopy(result.decoded1(), i * per, grid[1], at, per);
              System.arraycopy(result.decoded2(), i * per, grid[2], at, per);
            }
          }
        }
      }
      if (!noPng) {
        PngImages.write(tmp.resolve("grid.png"), grid(grid[0], new SeparationResult(grid[1], grid[2]), gridRows));
      }
      Files.createDirectories(out);
      try (var files = Files.list(tmp)) {
        for (Path f : files.toList()) {
          Files.move(f, out.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING,
              StandardCopyOption.ATOMIC_MOVE);
        }
      }
    } finally {
      AtomicFiles.deleteRecursively(tmp);
    }
    AtomicFiles.removeOrphans(tmp.getParent(), out);
    PrintWriter o = spec.commandLine().getOut();
    o.println("model: " + description);
    String arrays = npy != null ? "decoded1.npy + decoded2.npy" : "";
    String written = noPng ? "" : (2 * count) + " images + grid.png"
        + (count > GRID_MAX ? ", grid shows the first " + GRID_MAX : "");
    o.println("separated " + count + " mixture(s) into " + out + " (" + written
        + (!written.isEmpty() && !arrays.isEmpty() ? ", " : "") + (written.isEmpty() && arrays.isEmpty()
        ? "nothing written: --no-png without --npy" : arrays) + ")");
    o.flush();
    return 0;
  }

  private static String stem(Path p) {
    String name = p.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  /** A mixture image, its problems reported as bad input naming the argument. */
  private static float[] readImage(Path file) {
    try {
      return PngImages.readMixture(file, "IMAGE " + file);
    } catch (IllegalArgumentException e) {
      throw new Cli.UserException(e.getMessage(), e);
    }
  }

  private static BufferedImage grid(float[] mixtures, SeparationResult r, int rows) {
    int cell = 32 * GRID_SCALE;
    int gap = 4;
    BufferedImage img = new BufferedImage(3 * cell + 4 * gap, rows * (cell + gap) + gap, BufferedImage.TYPE_BYTE_GRAY);
    float[][] columns = {mixtures, r.decoded1(), r.decoded2()};
    for (int row = 0; row < rows; row++) {
      for (int c = 0; c < 3; c++) {
        PngImages.paint(img, columns[c], row, gap + c * (cell + gap), gap + row * (cell + gap), GRID_SCALE);
      }
    }
    return img;
  }

}
