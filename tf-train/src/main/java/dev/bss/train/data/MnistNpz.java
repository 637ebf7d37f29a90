package dev.bss.train.data;

import dev.bss.interop.numpy.NpyArray;
import dev.bss.interop.numpy.Npz;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Reads Keras's MNIST cache {@code ~/.keras/datasets/mnist.npz}: {@code x_train} (60000, 28, 28) uint8,
 * {@code y_train} (60000,) uint8, {@code x_test} (10000, 28, 28), {@code y_test} (10000,), as
 * {@code keras.datasets.mnist.load_data()} returns them.
 */
public final class MnistNpz {

  private MnistNpz() {}

  /** The training set (index 0) and test set (index 1) of a {@code mnist.npz} file. */
  public static ImageSet[] read(Path file) {
    Map<String, NpyArray> arrays = Npz.read(file);
    for (String key : new String[] {"x_train", "y_train", "x_test", "y_test"}) {
      if (!arrays.containsKey(key)) {
        throw new IllegalArgumentException(file + ": expected arrays x_train, y_train, x_test, y_test; found "
            + arrays.keySet());
      }
    }
    return new ImageSet[] {
        imageSet(file, "mnist train", arrays.get("x_train"), arrays.get("y_train"), "train"),
        imageSet(file, "mnist test", arrays.get("x_test"), arrays.get("y_test"), "test")};
  }

  private static ImageSet imageSet(Path file, String name, NpyArray images, NpyArray labels, String split) {
    long[] shape = images.shape();
    if (shape.length != 3 || shape[1] != Idx.RAW_SIDE || shape[2] != Idx.RAW_SIDE) {
      throw new IllegalArgumentException(file + ": expected x_" + split + " of shape (N, 28, 28), found "
          + Arrays.toString(shape));
    }
    if (!images.dtype().equals("|u1")) {
      throw new IllegalArgumentException(file + ": expected x_" + split + " as uint8, found " + images.dtype());
    }
    long[] labelShape = labels.shape();
    if (labelShape.length != 1 || labelShape[0] != shape[0]) {
      throw new IllegalArgumentException(file + ": expected y_" + split + " of shape (" + shape[0] + ",), found "
          + Arrays.toString(labelShape));
    }
    long[] values = labels.toLongs();
    byte[] labelBytes = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] > 9) {
        throw new IllegalArgumentException(file + ": expected y_" + split + " labels 0-9, found " + values[i]
            + " at index " + i);
      }
      labelBytes[i] = (byte) values[i];
    }
    return ImageSet.fromRaw(name, images.uint8(), labelBytes);
  }
}
