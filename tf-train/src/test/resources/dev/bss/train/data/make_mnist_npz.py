"""Makes mnist_small.npz, a tiny file in the format of Keras's ~/.keras/datasets/mnist.npz, for MnistNpzTest.

Run from the repository root: python3 tf-train/src/test/resources/dev/bss/train/data/make_mnist_npz.py
Keras's mnist.npz holds x_train (60000, 28, 28) uint8, y_train (60000,) uint8, x_test (10000, 28, 28) uint8 and
y_test (10000,) uint8; this one holds the first 5 training and first 3 test items of the official files
(test-data/embedded has the same first items), written with np.savez_compressed (deflated members).
"""
import gzip
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
src = "test-data/embedded/mnist"


def idx(name, offset, count, item):
    with gzip.open(os.path.join(src, name), "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, np.uint8, offset=offset)[: count * item]


x_train = idx("train-images-idx3-ubyte.gz", 16, 5, 784).reshape(5, 28, 28)
y_train = idx("train-labels-idx1-ubyte.gz", 8, 5, 1)
x_test = idx("t10k-images-idx3-ubyte.gz", 16, 3, 784).reshape(3, 28, 28)
y_test = idx("t10k-labels-idx1-ubyte.gz", 8, 3, 1)
np.savez_compressed(os.path.join(here, "mnist_small.npz"), x_train=x_train, y_train=y_train, x_test=x_test,
                    y_test=y_test)
print(y_train, y_test, int(x_train.astype(np.int64).sum()), int(x_test.astype(np.int64).sum()))
