"""MNIST + Fashion-MNIST data for the separation network, as the seed notebook prepares it.

Only NumPy is needed here (no Keras), so this module also runs where Keras is not installed.

Protocol (../../shared/SPEC.md, "Data"):
- each 28x28 uint8 image is zero-padded by 2 pixels on every side to 32x32, divided by 255 and given a
  channel axis: (N, 32, 32, 1), values in [0, 1];
- a sample picks an MNIST index and a Fashion-MNIST index independently, uniformly, with replacement;
  mixture = (mnist + fashion) / 2, targets = (mnist, fashion);
- training draws from the two training sets, evaluation from the two test sets; no validation split.

Images are kept as padded uint8 and converted per batch: the conversion is done in float64 and cast to
float32 at the end, exactly like the fixture generator (`np.pad(x) / 255.0`, then `(a + b) / 2.0`,
then `.astype("float32")`), so a draw here is bit-identical to the fixtures' `inputs.npy`.
"""
import gzip
import os

import numpy as np

IMAGE_SIZE = 32
PAD = 2

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"


def read_idx_images(path):
    """Reads a gzip IDX image file into a uint8 array (N, rows, cols), validating its header and size."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 16:
        raise ValueError(f"{path}: expected an IDX image header of 16 bytes, found {len(raw)} bytes")
    magic, count, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in range(0, 16, 4))
    if magic != IMAGES_MAGIC:
        raise ValueError(f"{path}: expected IDX image magic {IMAGES_MAGIC}, found {magic}")
    expected = 16 + count * rows * cols
    if len(raw) != expected:
        raise ValueError(f"{path}: expected {expected} bytes for {count} images of {rows}x{cols}, "
                         f"found {len(raw)}")
    return np.frombuffer(raw, np.uint8, offset=16).reshape(count, rows, cols)


def read_idx_labels(path):
    """Reads a gzip IDX label file into a uint8 array (N,), validating its header and size."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: expected an IDX label header of 8 bytes, found {len(raw)} bytes")
    magic, count = int.from_bytes(raw[0:4], "big"), int.from_bytes(raw[4:8], "big")
    if magic != LABELS_MAGIC:
        raise ValueError(f"{path}: expected IDX label magic {LABELS_MAGIC}, found {magic}")
    if len(raw) != 8 + count:
        raise ValueError(f"{path}: expected {8 + count} bytes for {count} labels, found {len(raw)}")
    return np.frombuffer(raw, np.uint8, offset=8)


def pad_images(images):
    """Zero-pads uint8 images (N, 28, 28) by 2 pixels per side: (N, 32, 32) uint8 (no resize)."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE - 2 * PAD, IMAGE_SIZE - 2 * PAD):
        raise ValueError(f"expected images of shape (N, 28, 28), found {images.shape}")
    return np.pad(images, ((0, 0), (PAD, PAD), (PAD, PAD)), mode="constant")


def to_model_input(padded, dtype=np.float32):
    """Padded uint8 images (N, 32, 32) -> (N, 32, 32, 1) in [0, 1] (divided by 255 in float64, then cast)."""
    return np.expand_dims(np.asarray(padded) / 255.0, -1).astype(dtype)


def preprocess(images, dtype=np.float32):
    """The seed's preprocessing of raw (N, 28, 28) uint8 images: pad 2, /255, channel last -> (N, 32, 32, 1)."""
    return to_model_input(pad_images(images), dtype)


def load_split(data_dir, split):
    """Padded uint8 images of one split ("train" or "test") of both datasets: (mnist, fashion), each (N, 32, 32).

    `data_dir` holds `mnist/` and `fashion-mnist/` with the official IDX gzip files (like ../../shared/data).
    """
    name = {"train": TRAIN_IMAGES, "test": TEST_IMAGES}.get(split)
    if name is None:
        raise ValueError(f"split: expected 'train' or 'test', found {split!r}")
    mnist = read_idx_images(os.path.join(data_dir, "mnist", name))
    fashion = read_idx_images(os.path.join(data_dir, "fashion-mnist", name))
    return pad_images(mnist), pad_images(fashion)


def load_split_from_keras(split):
    """Same as `load_split`, from Keras's dataset cache (`keras.datasets.mnist` / `fashion_mnist`; downloads)."""
    import keras  # only this function needs Keras

    index = {"train": 0, "test": 1}.get(split)
    if index is None:
        raise ValueError(f"split: expected 'train' or 'test', found {split!r}")
    mnist = keras.datasets.mnist.load_data()[index][0]
    fashion = keras.datasets.fashion_mnist.load_data()[index][0]
    return pad_images(mnist), pad_images(fashion)


class MixtureSampler:
    """Draws (mixture, mnist, fashion) batches from padded uint8 images with an explicit NumPy generator.

    mixture, mnist and fashion are float32 (n, 32, 32, 1); the two indices of each sample are independent,
    uniform and with replacement, as in the seed notebook's generator.
    """

    def __init__(self, mnist_padded, fashion_padded, rng):
        for label, images in (("mnist", mnist_padded), ("fashion", fashion_padded)):
            if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or images.dtype != np.uint8:
                raise ValueError(f"{label}: expected padded uint8 images (N, 32, 32), "
                                 f"found {images.dtype} {images.shape}")
        self.mnist = mnist_padded
        self.fashion = fashion_padded
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    def draw_indices(self, n):
        """The MNIST indices, then the Fashion-MNIST indices (this order is part of the fixtures' recipe)."""
        mnist_index = self.rng.integers(0, self.mnist.shape[0], n)
        fashion_index = self.rng.integers(0, self.fashion.shape[0], n)
        return mnist_index, fashion_index

    def take(self, mnist_index, fashion_index):
        """The samples for given indices: (mixture, mnist, fashion), float32 (n, 32, 32, 1)."""
        mnist = np.expand_dims(self.mnist[mnist_index] / 255.0, -1)
        fashion = np.expand_dims(self.fashion[fashion_index] / 255.0, -1)
        mixture = (mnist + fashion) / 2.0
        return mixture.astype(np.float32), mnist.astype(np.float32), fashion.astype(np.float32)

    def draw(self, n):
        """n fresh random samples: (mixture, mnist, fashion)."""
        return self.take(*self.draw_indices(n))

    def keras_batches(self, batch_size):
        """Endless generator of `(mixture, (mnist, fashion))` batches for `model.fit(..., steps_per_epoch=...)`."""
        while True:
            mixture, mnist, fashion = self.draw(batch_size)
            yield mixture, (mnist, fashion)


def pixel_summary(data_dir):
    """Raw uint8 pixel sums and counts of every image file (a checksum of what was loaded)."""
    summary = {}
    for dataset in ("mnist", "fashion-mnist"):
        for name in (TRAIN_IMAGES, TEST_IMAGES):
            images = read_idx_images(os.path.join(data_dir, dataset, name))
            summary[f"{dataset}/{name}"] = {"count": int(images.shape[0]),
                                            "pixel_sum": int(images.sum(dtype=np.int64))}
    return summary


if __name__ == "__main__":
    import json
    import sys

    data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                                                   "shared", "data")
    print(json.dumps(pixel_summary(data_dir), indent=1))
