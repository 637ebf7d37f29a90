"""Writes Keras reference fixtures for the Java port, in the layout of ../../shared/keras-reference/<name>/.

Usage:
  python3 make_fixtures.py OUTDIR [--seed 2] [--inputs 16] [--data ../../shared/data]
                           [--config ../../shared/keras-reference/tiny.json] [--no-activations] [--force]

What it writes into OUTDIR (see README.md): inputs.npy, targets_mnist.npy, targets_fashion.npy,
expected_decoded1.npy, expected_decoded2.npy, pos_embedding.npy, reference.keras, reference.weights.h5,
reference_legacy.h5, variables.json, activations/<layer>.npy.

Recipe (the order of the random draws is part of it; it is the order of the seed fixtures):
1. `keras.utils.set_random_seed(seed)` then the model is built (Keras initializers draw from that seed);
2. a NumPy `default_rng(seed)` draws the position embedding N(0, 1), then the MNIST test indices, then the
   Fashion-MNIST test indices of the inputs (real test mixtures);
3. in `model.layers` order, every BatchNormalization gets gamma ~ U(0.7, 1.3), beta ~ N(0, 0.1), and moving
   statistics = the real per-channel mean / variance of its input on these inputs (inference mode upstream,
   earlier layers already changed) times U(0.9, 1.1) (+1e-4 on the variance); every LayerNormalization gets
   gamma ~ U(0.7, 1.3), beta ~ N(0, 0.1). So no normalization is an identity;
4. outputs are `model.predict` (inference: dropout off, BN on moving statistics), float32.
The NumPy draws (inputs, targets, pos_embedding) do not depend on Keras; the weights depend on the Keras
version and backend (the shared fixtures: Keras 3.15.1, numpy backend).

The folder is written under a temporary name and renamed when complete; an existing OUTDIR is refused
unless --force.
"""
import argparse
import json
import os
import re
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import keras  # noqa: E402
from keras import layers  # noqa: E402

from bss_reference import data, model as reference  # noqa: E402

SHARED = os.path.join(HERE, "..", "..", "shared")


def snake_case(name):
    """Keras's own conversion of a class name to the `.weights.h5` group name (MultiHeadAttention -> multi_head_attention)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def realistic_normalizations(model, inputs, rng):
    """Step 3 of the recipe: random gamma/beta everywhere, BN moving statistics from the real inputs."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            upstream = keras.Model(model.input, layer.input)
            seen = np.asarray(upstream.predict(inputs, verbose=0), dtype=np.float64)
            mean, variance = seen.mean(axis=(0, 1, 2)), seen.var(axis=(0, 1, 2))
            channels = mean.shape[0]
            gamma = rng.uniform(0.7, 1.3, channels).astype("float32")
            beta = rng.normal(0, 0.1, channels).astype("float32")
            moving_mean = (mean * rng.uniform(0.9, 1.1, channels)).astype("float32")
            moving_variance = (variance * rng.uniform(0.9, 1.1, channels) + 1e-4).astype("float32")
            layer.set_weights([gamma, beta, moving_mean, moving_variance])
        elif isinstance(layer, layers.LayerNormalization):
            channels = layer.weights[0].shape[0]
            gamma = rng.uniform(0.7, 1.3, channels).astype("float32")
            beta = rng.normal(0, 0.1, channels).astype("float32")
            layer.set_weights([gamma, beta])


def weights_manifest(model, weights_h5):
    """Every variable in `model.layers` order with its `.weights.h5` dataset, checked against the file.

    The file numbers layers per class in `model.layers` order (`layers/dense_9` may hold the layer named
    `dense_8`); the bare position-embedding `add` operation is not a layer and holds nothing.
    """
    import h5py

    manifest, per_class = [], {}
    with h5py.File(weights_h5, "r") as h5:
        for layer in model.layers:
            base = snake_case(type(layer).__name__)
            index = per_class.get(base, 0)
            per_class[base] = index + 1
            group = base if index == 0 else f"{base}_{index}"
            if isinstance(layer, layers.MultiHeadAttention):
                parts = [("query_dense", layer.query_dense), ("key_dense", layer.key_dense),
                         ("value_dense", layer.value_dense), ("output_dense", layer.output_dense)]
            else:
                parts = [(None, layer)]
            for part, owner in parts:
                for i, variable in enumerate(owner.weights):
                    dataset = f"layers/{group}/" + (f"{part}/" if part else "") + f"vars/{i}"
                    stored = h5[dataset][()]
                    if stored.shape != tuple(variable.shape) or not np.array_equal(stored, np.asarray(variable)):
                        raise AssertionError(f"{weights_h5}: {dataset} does not hold {variable.path}")
                    manifest.append({"layer": layer.name, "class": type(layer).__name__, "path": variable.path,
                                     "shape": list(variable.shape), "trainable": bool(variable.trainable),
                                     "weights_h5": dataset})
    return manifest


def write_fixtures(out_dir, seed, n_inputs, data_dir, config, activations=True):
    keras.utils.set_random_seed(seed)
    mnist_test, fashion_test = data.load_split(data_dir, "test")
    rng = np.random.default_rng(seed)
    pos_embedding = reference.make_pos_embedding(rng, config)
    model = reference.build_model(pos_embedding, config)
    if model.layers[1].name != "conv2d":
        raise RuntimeError("layer names are shifted: run make_fixtures.py in a fresh process")
    total, trainable, _ = reference.count_params(model)
    print("params", total, "trainable", trainable)

    sampler = data.MixtureSampler(mnist_test, fashion_test, rng)
    inputs, mnist_targets, fashion_targets = sampler.draw(n_inputs)
    realistic_normalizations(model, inputs, rng)
    decoded1, decoded2 = model.predict(inputs, verbose=0)

    np.save(os.path.join(out_dir, "inputs.npy"), inputs)
    np.save(os.path.join(out_dir, "targets_mnist.npy"), mnist_targets)
    np.save(os.path.join(out_dir, "targets_fashion.npy"), fashion_targets)
    np.save(os.path.join(out_dir, "expected_decoded1.npy"), np.asarray(decoded1, dtype="float32"))
    np.save(os.path.join(out_dir, "expected_decoded2.npy"), np.asarray(decoded2, dtype="float32"))
    np.save(os.path.join(out_dir, "pos_embedding.npy"), pos_embedding)

    if activations:
        # Each layer's output for the first 2 inputs; a shared layer (CBAM's Dense pair) shows its first call.
        names = [l.name for l in model.layers if not isinstance(l, keras.layers.InputLayer)]
        probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
        act_dir = os.path.join(out_dir, "activations")
        os.makedirs(act_dir)
        for name, value in zip(names, probe.predict(inputs[:2], verbose=0)):
            np.save(os.path.join(act_dir, name + ".npy"), np.asarray(value, dtype="float32"))

    model.save(os.path.join(out_dir, "reference.keras"))
    weights_h5 = os.path.join(out_dir, "reference.weights.h5")
    model.save_weights(weights_h5)
    model.save(os.path.join(out_dir, "reference_legacy.h5"))

    with open(os.path.join(out_dir, "variables.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "backend": keras.backend.backend(), "seed": seed,
                   "config": config, "params": int(total), "variables": weights_manifest(model, weights_h5)},
                  f, indent=1)

    for name, out, target in (("decoded1", decoded1, mnist_targets), ("decoded2", decoded2, fashion_targets)):
        print(f"{name} range {float(out.min()):.6f} {float(out.max()):.6f} mean {float(out.mean()):.6f} "
              f"mse vs target {float(((out - target) ** 2).mean()):.6f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--inputs", type=int, default=16, help="number of test mixtures")
    parser.add_argument("--data", default=os.path.join(SHARED, "data"), help="folder with mnist/ and fashion-mnist/")
    parser.add_argument("--config", help="JSON overriding the seed config (e.g. tiny.json); default: seed network")
    parser.add_argument("--no-activations", action="store_true", help="skip activations/ (large for the seed net)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUTDIR")
    args = parser.parse_args(argv)

    out_dir = os.path.abspath(args.out_dir)
    if os.path.exists(out_dir) and not args.force:
        parser.error(f"{out_dir} exists; pass --force to replace it")
    config = reference.load_config(args.config)
    temp_dir = f"{out_dir}.tmp-{os.getpid()}"
    os.makedirs(temp_dir)
    try:
        write_fixtures(temp_dir, args.seed, args.inputs, args.data, config, not args.no_activations)
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.rename(temp_dir, out_dir)
    print("wrote", out_dir)


if __name__ == "__main__":
    main()
