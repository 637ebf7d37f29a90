package dev.bss.train.data;

import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
import org.tensorflow.types.TFloat32;

/**
 * One batch of the separation task, held in the three float32 tensors a training step feeds: the mixture
 * {@code (mnist + fashion) / 2} and its two targets (decoded1's MNIST digit, decoded2's Fashion-MNIST item), each
 * {@code [size, 32, 32, 1]} row-major.
 *
 * <p>A source writes a batch once, straight into the tensors' memory through {@link #mixture()}, {@link #mnist()} and
 * {@link #fashion()} ({@link MixtureGenerator}, the pairs file); the step feeds the tensors as they are, so no copy
 * sits between the data and the graph. Reuse a batch for every step of its size and close it when done (the tensors
 * hold native memory).
 */
public final class Batch implements AutoCloseable {

  private final int size;
  private final TFloat32 mixtureTensor;
  private final TFloat32 mnistTensor;
  private final TFloat32 fashionTensor;
  private final FloatDataBuffer mixture;
  private final FloatDataBuffer mnist;
  private final FloatDataBuffer fashion;
  private boolean closed;

  private Batch(int size, TFloat32 mixtureTensor, TFloat32 mnistTensor, TFloat32 fashionTensor) {
    this.size = size;
    this.mixtureTensor = mixtureTensor;
    this.mnistTensor = mnistTensor;
    this.fashionTensor = fashionTensor;
    mixture = mixtureTensor.asRawTensor().data().asFloats();
    mnist = mnistTensor.asRawTensor().data().asFloats();
    fashion = fashionTensor.asRawTensor().data().asFloats();
  }

  /** A batch of {@code size} pairs to fill (its values are undefined until a source writes them). */
  public static Batch allocate(int size) {
    if (size <= 0 || size > Integer.MAX_VALUE / ImageSet.PIXELS) {
      throw new IllegalArgumentException("batch size must be 1.." + Integer.MAX_VALUE / ImageSet.PIXELS + ", found "
          + size);
    }
    Shape shape = Shape.of(size, ImageSet.SIDE, ImageSet.SIDE, 1);
    TFloat32[] tensors = new TFloat32[3];
    try {
      for (int i = 0; i < 3; i++) {
        tensors[i] = TFloat32.tensorOf(shape);
      }
    } catch (RuntimeException e) {
      closeAll(tensors);
      throw e;
    }
    return new Batch(size, tensors[0], tensors[1], tensors[2]);
  }

  /** Number of pairs. */
  public int size() {
    return size;
  }

  /** The mixtures, {@code size * 1024} values: the fed tensor's memory, read and written in place. */
  public FloatDataBuffer mixture() {
    return open(mixture);
  }

  /** The MNIST targets (decoded1's), {@code size * 1024} values, in place. */
  public FloatDataBuffer mnist() {
    return open(mnist);
  }

  /** The Fashion-MNIST targets (decoded2's), {@code size * 1024} values, in place. */
  public FloatDataBuffer fashion() {
    return open(fashion);
  }

  /** A copy of the mixtures. */
  public float[] mixtureValues() {
    return values(mixture());
  }

  /** A copy of the MNIST targets. */
  public float[] mnistValues() {
    return values(mnist());
  }

  /** A copy of the Fashion-MNIST targets. */
  public float[] fashionValues() {
    return values(fashion());
  }

  /** The mixture tensor {@code [size, 32, 32, 1]} to feed (owned by this batch: do not close it). */
  public TFloat32 mixtureTensor() {
    open(mixture);
    return mixtureTensor;
  }

  /** The MNIST target tensor to feed (owned by this batch). */
  public TFloat32 mnistTensor() {
    open(mnist);
    return mnistTensor;
  }

  /** The Fashion-MNIST target tensor to feed (owned by this batch). */
  public TFloat32 fashionTensor() {
    open(fashion);
    return fashionTensor;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      closeAll(mixtureTensor, mnistTensor, fashionTensor);
    }
  }

  private FloatDataBuffer open(FloatDataBuffer buffer) {
    // Writing freed native memory would not throw: it would corrupt the process.
    if (closed) {
      throw new IllegalStateException("batch of " + size + " is closed");
    }
    return buffer;
  }

  private float[] values(FloatDataBuffer buffer) {
    float[] values = new float[size * ImageSet.PIXELS];
    buffer.read(values);
    return values;
  }

  private static void closeAll(TFloat32... tensors) {
    for (TFloat32 t : tensors) {
      if (t != null) {
        t.close();
      }
    }
  }
}
