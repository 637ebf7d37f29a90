package dev.bss.train.loop;

import dev.bss.interop.ModelFormat;
import dev.bss.interop.LoadedModel;
import dev.bss.interop.ModelFiles;
import dev.bss.model.ModelConfig;
import dev.bss.model.WeightSet;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The weights a run starts from ({@code bss train --init PATH}): any model {@link ModelFiles} reads, with its config
 * (or the {@code --config} override), and the identity of what was read (path, format, SHA-256) for run.json. The
 * optimizer is not taken from the file: like {@code model.compile} then {@code fit} in Keras, Adam starts fresh.
 *
 * @param path the path as given
 * @param format the detected format
 * @param source the file or directory actually read (for a run folder: the checkpoint chosen)
 * @param sha256 SHA-256 of the file read; for a directory, of its file tree (see {@link #sha256(Path)})
 * @param config the network's config
 * @param weights every variable by Keras path, position embedding included
 */
public record InitWeights(Path path, ModelFormat format, Path source, String sha256, ModelConfig config,
    WeightSet weights) {

  /**
   * Loads {@code path} with the shared loaders.
   *
   * @param config overrides the file's config (null: the file's own, or inferred from the weights)
   * @param positionEmbedding the position embedding for a Keras-written {@code .weights.h5} (null: none)
   * @throws IllegalArgumentException one line starting with {@code --init} naming the file and the problem
   */
  public static InitWeights load(Path path, ModelConfig config, Path positionEmbedding) {
    LoadedModel m;
    try {
      m = ModelFiles.load(path, config, positionEmbedding);
    } catch (IllegalArgumentException | UncheckedIOException e) {
      throw new IllegalArgumentException("--init: " + e.getMessage(), e);
    }
    return new InitWeights(path, m.format(), m.source(), sha256(m.source()), m.config(), m.weights());
  }

  /** A copy with another config (e.g. a dropout override); the weights stay. */
  public InitWeights withConfig(ModelConfig other) {
    return new InitWeights(path, format, source, sha256, other, weights);
  }

  /** Path, format, source and SHA-256, for run.json and checkpoint state. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", path.toString());
    m.put("format", format.cliName());
    m.put("source", source.toString());
    m.put("sha256", sha256);
    return m;
  }

  /**
   * SHA-256 of a file; for a directory, of the lines {@code <relative path> <file sha256>} of its regular files in
   * sorted order (so a SavedModel or checkpoint folder has one stable digest).
   */
  public static String sha256(Path path) {
    try {
      if (!Files.isDirectory(path)) {
        return fileSha256(path);
      }
      List<Path> files;
      try (Stream<Path> walk = Files.walk(path)) {
        files = walk.filter(Files::isRegularFile).sorted().toList();
      }
      MessageDigest tree = digest();
      for (Path f : files) {
        String line = path.relativize(f).toString().replace('\\', '/') + " " + fileSha256(f) + "\n";
        tree.update(line.getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(tree.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
    }
  }

  private static String fileSha256(Path file) throws IOException {
    MessageDigest d = digest();
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        d.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(d.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
