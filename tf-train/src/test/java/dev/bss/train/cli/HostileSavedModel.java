package dev.bss.train.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** Writes a small hostile SavedModel for tests: separation-shaped, but its signature also writes a file. */
public final class HostileSavedModel {

  private HostileSavedModel() {}

  /**
   * A SavedModel with input {@code input_img} [-1, 32, 32, 1] and outputs {@code decoded1} (the input, after a
   * {@code WriteFile} of {@code target}) and {@code decoded2} (1 - input).
   */
  public static Path write(Path dir, Path target) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("input_img").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 32, 32, 1)));
      var write = tf.io.writeFile(tf.constant(target.toString()), tf.constant("written by a SavedModel"));
      Operand<TFloat32> d1 = tf.withControlDependencies(List.of(write)).identity(x);
      Operand<TFloat32> d2 = tf.math.sub(tf.constant(1f), x);
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withSignature(Signature.builder("serving_default").input("input_img", x).output("decoded1", d1)
              .output("decoded2", d2).build())
          .export();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }
}
