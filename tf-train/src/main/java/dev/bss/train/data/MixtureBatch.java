package dev.bss.train.data;

import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * One batch of the separation task: the mixtures and their two targets, each {@code [size, 32, 32, 1]} float32
 * row-major, plus the dataset indices each sample was drawn from.
 *
 * <p>The arrays may be longer than {@code size * 1024} when a batch object is reused for a smaller batch; only the
 * first {@code size * 1024} values are meaningful. The tensor accessors copy exactly that prefix.
 */
public final class MixtureBatch {

  private final float[] mixture;
  private final float[] mnistTarget;
  private final float[] fashionTarget;
  private final int[] mnistIndex;
  private final int[] fashionIndex;
  private int size;
  private long batchIndex = -1;

  /** An empty batch able to hold {@code capacity} samples. */
  public MixtureBatch(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("batch capacity must be positive, found " + capacity);
    }
    mixture = new float[capacity * ImageSet.PIXELS];
    mnistTarget = new float[capacity * ImageSet.PIXELS];
    fashionTarget = new float[capacity * ImageSet.PIXELS];
    mnistIndex = new int[capacity];
    fashionIndex = new int[capacity];
  }

  /** The tensor shape of {@code n} samples: {@code [n, 32, 32, 1]}. */
  public static Shape shape(long n) {
    return Shape.of(n, ImageSet.SIDE, ImageSet.SIDE, 1);
  }

  /** Number of samples in this batch. */
  public int size() {
    return size;
  }

  /** Most samples this batch object can hold. */
  public int capacity() {
    return mnistIndex.length;
  }

  /** Position of this batch in its generator's sequence (0-based), or -1 if never filled. */
  public long batchIndex() {
    return batchIndex;
  }

  /** The model input {@code (mnist + fashion) / 2}, {@code [size, 32, 32, 1]} (backing array, not a copy). */
  public float[] mixture() {
    return mixture;
  }

  /** The first target (decoded1's), the MNIST digit, {@code [size, 32, 32, 1]} (backing array). */
  public float[] mnistTarget() {
    return mnistTarget;
  }

  /** The second target (decoded2's), the Fashion-MNIST item, {@code [size, 32, 32, 1]} (backing array). */
  public float[] fashionTarget() {
    return fashionTarget;
  }

  /** Index into the MNIST set of sample {@code i}. */
  public int mnistIndex(int i) {
    checkSample(i);
    return mnistIndex[i];
  }

  /** Index into the Fashion-MNIST set of sample {@code i}. */
  public int fashionIndex(int i) {
    checkSample(i);
    return fashionIndex[i];
  }

  /** A new tensor holding the mixtures; the caller closes it. */
  public TFloat32 mixtureTensor() {
    return tensor(mixture);
  }

  /** A new tensor holding the MNIST targets; the caller closes it. */
  public TFloat32 mnistTargetTensor() {
    return tensor(mnistTarget);
  }

  /** A new tensor holding the Fashion-MNIST targets; the caller closes it. */
  public TFloat32 fashionTargetTensor() {
    return tensor(fashionTarget);
  }

  /**
   * Copies the batch into existing tensors of shape {@code [size, 32, 32, 1]} (e.g. tensors allocated once and fed
   * every step), avoiding a native allocation per step.
   */
  public void copyInto(TFloat32 mixtureTensor, TFloat32 mnistTargetTensor, TFloat32 fashionTargetTensor) {
    copy(mixture, mixtureTensor, "mixture");
    copy(mnistTarget, mnistTargetTensor, "mnist target");
    copy(fashionTarget, fashionTargetTensor, "fashion target");
  }

  int[] mnistIndices() {
    return mnistIndex;
  }

  int[] fashionIndices() {
    return fashionIndex;
  }

  void setFilled(int size, long batchIndex) {
    this.size = size;
    this.batchIndex = batchIndex;
  }

  private TFloat32 tensor(float[] values) {
    // One bulk copy into the tensor's native memory; no per-element boxing.
    return TFloat32.tensorOf(shape(size),
        DataBuffers.of(values, true, false).narrow((long) size * ImageSet.PIXELS));
  }

  private void copy(float[] values, TFloat32 tensor, String what) {
    if (!tensor.shape().equals(shape(size))) {
      throw new IllegalArgumentException(what + " tensor: expected shape " + shape(size) + ", found "
          + tensor.shape());
    }
    tensor.copyFrom(DataBuffers.of(values, true, false).narrow((long) size * ImageSet.PIXELS));
  }

  private void checkSample(int i) {
    if (i < 0 || i >= size) {
      throw new IndexOutOfBoundsException("sample " + i + " of a batch of " + size);
    }
  }
}
