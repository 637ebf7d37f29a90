"""The seed's evaluation protocol (NumPy only): 10 draws of 5,000 test pairs, mse per head, mean and std.

Per draw: mse1 = mean((p1 - y1)^2) (MNIST head), mse2 = mean((p2 - y2)^2) (Fashion head),
combined = (mse1 + mse2) / 2; the report is the mean and (population) std of each over the draws.
The identity baseline (both outputs = the mixture) is the floor any trained model must beat by far.
"""
import numpy as np

from .data import MixtureSampler

DRAWS = 10
PAIRS = 5000


def evaluate(separate, mnist_test, fashion_test, seed, draws=DRAWS, pairs=PAIRS):
    """Runs `separate(mixture) -> (decoded1, decoded2)` on `draws` fresh draws of `pairs` test samples.

    `mnist_test`, `fashion_test`: padded uint8 test images (N, 32, 32). Returns a dict with the per-draw
    lists `mse1`, `mse2`, `combined` and their `*_mean` / `*_std`.
    """
    sampler = MixtureSampler(mnist_test, fashion_test, seed)
    per_draw = {"mse1": [], "mse2": [], "combined": []}
    for _ in range(draws):
        mixture, mnist, fashion = sampler.draw(pairs)
        decoded1, decoded2 = separate(mixture)
        mse1 = float(np.mean((np.asarray(decoded1, np.float64) - mnist) ** 2))
        mse2 = float(np.mean((np.asarray(decoded2, np.float64) - fashion) ** 2))
        per_draw["mse1"].append(mse1)
        per_draw["mse2"].append(mse2)
        per_draw["combined"].append((mse1 + mse2) / 2)
    report = dict(per_draw)
    for key, values in per_draw.items():
        report[key + "_mean"] = float(np.mean(values))
        report[key + "_std"] = float(np.std(values))
    return report


def identity(mixture):
    """The baseline separator: both outputs are the mixture itself."""
    return mixture, mixture


def keras_separator(model, batch_size=256):
    """Adapts a Keras model to `evaluate` (inference mode)."""
    def separate(mixture):
        decoded1, decoded2 = model.predict(mixture, batch_size=batch_size, verbose=0)
        return decoded1, decoded2
    return separate


def format_report(name, report):
    return (f"{name}: combined {report['combined_mean']:.7f} (std {report['combined_std']:.2g}), "
            f"MNIST {report['mse1_mean']:.7f} (std {report['mse1_std']:.2g}), "
            f"Fashion {report['mse2_mean']:.7f} (std {report['mse2_std']:.2g})")


if __name__ == "__main__":
    import os
    import sys

    from .data import load_split

    data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                                                   "shared", "data")
    mnist_test, fashion_test = load_split(data_dir, "test")
    print(format_report("identity baseline (seed 0)", evaluate(identity, mnist_test, fashion_test, seed=0)))
