"""Checks bss_reference/model.py against a fixture folder WITHOUT Keras (only NumPy is needed).

A small stand-in for the `keras` package records every layer model.py constructs, names it the way
Keras 3 auto-names layers (snake_case class name + one counter per name; an explicit `name=` takes no
number; the bare `x + const` operation takes the name `add`), and infers weight and output shapes.
Then, for the fixture's config:
- every layer of `variables.json` must exist under the same name with the same weight shapes, in order;
- the set of layer names must equal the fixture's `activations/*.npy` names, and each output shape must
  equal the stored activation's shape (without the batch axis);
- the parameter count must equal `variables.json`'s `params`.
It does not check numerics (activation functions, initializers): that needs Keras (make_fixtures.py).

Usage: python3 check_structure.py FIXTURE_DIR [FIXTURE_DIR ...]   (e.g. ../../shared/keras-reference/tiny)
Exit status 0 when every folder matches, 1 otherwise.
"""
import importlib
import json
import math
import os
import re
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


class Recorder:
    """Global state of one dry build: name counters and the layers in construction order."""

    def __init__(self):
        self.counters = {}
        self.layers = []

    def auto_name(self, prefix):
        n = self.counters.get(prefix, 0)
        self.counters[prefix] = n + 1
        return prefix if n == 0 else f"{prefix}_{n}"


REC = Recorder()


def snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class Sym:
    """A symbolic tensor: only its shape (batch axis None)."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def __add__(self, other):
        other_shape = np.shape(other)
        REC.auto_name("add")  # Keras names the bare operation `add`; it is not a layer
        return Sym((None,) + tuple(np.broadcast_shapes(self.shape[1:], tuple(other_shape)[1:])))


def broadcast(shapes):
    return (None,) + tuple(np.broadcast_shapes(*[s[1:] for s in shapes]))


class Layer:
    has_outputs = True

    def __init__(self, name=None, **kwargs):
        self.name = name if name is not None else REC.auto_name(snake(type(self).__name__))
        self.kwargs = kwargs
        self.weights = None
        self.output_shape = None
        self.called = False
        REC.layers.append(self)

    def __call__(self, *inputs):
        shapes = [[t.shape for t in x] if isinstance(x, (list, tuple)) else x.shape for x in inputs]
        if self.weights is None:
            self.weights = self.build(*shapes)
        out = self.compute(*shapes)
        if not self.called:
            self.output_shape = out
        self.called = True
        return Sym(out)

    def build(self, *shapes):
        return []

    def compute(self, shape, *rest):
        return shape


def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class Conv2D(Layer):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", activation=None, use_bias=True,
                 name=None, **kwargs):
        assert padding == "same", "every conv of the seed uses padding='same'"
        self.filters, self.kernel, self.strides, self.use_bias = filters, pair(kernel_size), pair(strides), use_bias
        super().__init__(name, activation=activation, **kwargs)

    def build(self, shape):
        kernel = self.kernel + (shape[-1], self.filters)
        return [kernel, (self.filters,)] if self.use_bias else [kernel]

    def compute(self, shape):
        return (None, math.ceil(shape[1] / self.strides[0]), math.ceil(shape[2] / self.strides[1]), self.filters)


class Conv2DTranspose(Conv2D):
    def build(self, shape):
        return [self.kernel + (self.filters, shape[-1]), (self.filters,)]

    def compute(self, shape):
        return (None, shape[1] * self.strides[0], shape[2] * self.strides[1], self.filters)


class MaxPooling2D(Layer):
    def __init__(self, pool_size=(2, 2), padding="valid", **kwargs):
        assert padding == "same"
        self.pool = pair(pool_size)
        super().__init__(**kwargs)

    def compute(self, shape):
        return (None, math.ceil(shape[1] / self.pool[0]), math.ceil(shape[2] / self.pool[1]), shape[3])


class Dense(Layer):
    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        self.units, self.use_bias = units, use_bias
        super().__init__(activation=activation, **kwargs)

    def build(self, shape):
        return [(shape[-1], self.units)] + ([(self.units,)] if self.use_bias else [])

    def compute(self, shape):
        return shape[:-1] + (self.units,)


class BatchNormalization(Layer):
    def build(self, shape):
        return [(shape[-1],)] * 4


class LayerNormalization(Layer):
    def __init__(self, epsilon=1e-3, **kwargs):
        self.epsilon = epsilon
        super().__init__(**kwargs)

    def build(self, shape):
        return [(shape[-1],)] * 2


class Dropout(Layer):
    def __init__(self, rate, **kwargs):
        self.rate = rate
        super().__init__(**kwargs)


class MultiHeadAttention(Layer):
    def __init__(self, num_heads, key_dim, **kwargs):
        self.heads, self.key_dim = num_heads, key_dim
        super().__init__(**kwargs)
        # Keras's MHA owns a Dropout (rate 0) that takes a `dropout_N` name but is no model layer.
        self.internal_dropout = Dropout(0.0)

    def build(self, query, value):
        d, h, k = query[-1], self.heads, self.key_dim
        qkv = [(value[-1] if i else d, h, k) for i in range(3)]
        return [qkv[0], (h, k), qkv[1], (h, k), qkv[2], (h, k), (h, k, d), (d,)]

    def compute(self, query, value):
        return query


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        self.target = tuple(target_shape)
        super().__init__(**kwargs)

    def compute(self, shape):
        assert np.prod(shape[1:]) == np.prod(self.target), (self.name, shape, self.target)
        return (None,) + self.target


class GlobalAveragePooling2D(Layer):
    def compute(self, shape):
        return (None, shape[-1])


class GlobalMaxPooling2D(GlobalAveragePooling2D):
    pass


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(activation=activation, **kwargs)


class Add(Layer):
    def compute(self, shapes):
        return broadcast(shapes)


class Multiply(Add):
    pass


class Concatenate(Layer):
    def __init__(self, axis=-1, **kwargs):
        self.axis = axis
        super().__init__(**kwargs)

    def compute(self, shapes):
        out = list(shapes[0])
        out[self.axis] = sum(s[self.axis] for s in shapes)
        return tuple(out)


class Lambda(Layer):
    def __init__(self, function, **kwargs):
        self.function = function
        super().__init__(**kwargs)

    def __call__(self, x):
        out = self.function(x).shape
        if not self.called:
            self.output_shape = out
        self.weights, self.called = [], True
        return Sym(out)


def reduce_channels(t, axis, keepdims=False):
    shape = list(t.shape)
    if keepdims:
        shape[axis] = 1
    else:
        del shape[axis]
    return Sym(shape)


class InputLayer:
    name = "input_img"


class Model:
    def __init__(self, inputs, outputs, name=None):
        self.name = name
        self.outputs = outputs
        self.layers = [InputLayer()] + [l for l in REC.layers if l.called]


def install_fake_keras():
    keras = types.ModuleType("keras")
    layers = types.ModuleType("keras.layers")
    ops = types.ModuleType("keras.ops")
    for cls in (Conv2D, Conv2DTranspose, MaxPooling2D, Dense, BatchNormalization, LayerNormalization, Dropout,
                MultiHeadAttention, Reshape, GlobalAveragePooling2D, GlobalMaxPooling2D, Activation, Add, Multiply,
                Concatenate, Lambda):
        setattr(layers, cls.__name__, cls)
    ops.mean = lambda t, axis, keepdims=False: reduce_channels(t, axis, keepdims)
    ops.max = lambda t, axis, keepdims=False: reduce_channels(t, axis, keepdims)
    keras.layers, keras.ops = layers, ops
    keras.Input = lambda shape, name=None: Sym((None,) + tuple(shape))
    keras.Model = Model
    sys.modules.update({"keras": keras, "keras.layers": layers, "keras.ops": ops})


def check(fixture_dir):
    """Dry-builds model.py with the fixture's config; returns the list of mismatches (empty = match)."""
    global REC
    REC = Recorder()
    sys.path.insert(0, HERE)
    from bss_reference import model as ref  # noqa: E402  (imported after the stand-in is installed)
    ref = importlib.reload(ref)

    with open(os.path.join(fixture_dir, "variables.json")) as f:
        manifest = json.load(f)
    config = ref.load_config(**manifest["config"])
    pos = np.zeros((1, ref.TOKENS, config["embed_dim"]), np.float32)
    model = ref.build_model(pos, config)
    built = {l.name: l for l in model.layers[1:]}
    problems = []

    expected_weights = {}
    for v in manifest["variables"]:
        expected_weights.setdefault(v["layer"], []).append(tuple(v["shape"]))
    for name, shapes in expected_weights.items():
        layer = built.get(name)
        if layer is None:
            problems.append(f"{name}: in variables.json, not built")
        elif [tuple(s) for s in layer.weights] != shapes:
            problems.append(f"{name}: weights {layer.weights}, fixture {shapes}")
    for name, layer in built.items():
        if layer.weights and name not in expected_weights:
            problems.append(f"{name}: built with weights {layer.weights}, not in variables.json")

    act_dir = os.path.join(fixture_dir, "activations")
    stored = {f[:-4] for f in os.listdir(act_dir) if f.endswith(".npy")}
    for name in sorted(stored ^ set(built)):
        problems.append(f"{name}: {'only in activations/' if name in stored else 'built, no activation file'}")
    for name in sorted(stored & set(built)):
        shape = np.load(os.path.join(act_dir, name + ".npy"), mmap_mode="r").shape
        if tuple(shape[1:]) != tuple(built[name].output_shape[1:]):
            problems.append(f"{name}: output {built[name].output_shape[1:]}, activation {shape[1:]}")

    params = sum(int(np.prod(s)) for l in built.values() for s in l.weights)
    if params != manifest["params"]:
        problems.append(f"parameters: built {params}, fixture {manifest['params']}")
    print(f"{fixture_dir}: {len(built)} layers, {params:,} parameters, "
          f"{len(expected_weights)} layers with weights -> {'OK' if not problems else 'MISMATCH'}")
    return problems


def main(argv):
    if not argv:
        print(__doc__.strip().splitlines()[-2])
        return 2
    install_fake_keras()
    failed = False
    for fixture_dir in argv:
        for problem in check(fixture_dir):
            print("  " + problem)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
