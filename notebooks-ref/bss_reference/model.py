"""The seed notebook's separation network (UNet + transformer + CBAM, two decoders) in Keras 3.

Faithful to ../../shared/SPEC.md, and written so that Keras's automatic layer names match the fixtures
of ../../shared/keras-reference (conv2d, conv2d_1, ..., dense_N with one counter for every Dense):
- layers are constructed and called in the seed's order (construction order also fixes which random
  draws each initializer gets under `keras.utils.set_random_seed`);
- the position embedding is an untracked constant added with `x + pos_embedding` (a bare `add`
  operation: not a layer, not a weight, stored in a `.keras` file's config as a `__tensor__`);
- CBAM's channel mean/max are Python `lambda`s in `Lambda` layers (so a `.keras` file needs
  `safe_mode=False` to load, like the fixtures).

Build each model in a fresh Keras session: auto names continue counting across models in one process
(call `keras.backend.clear_session()` BEFORE `keras.utils.set_random_seed`, which it would reset).
"""
import json
import warnings

import numpy as np
import keras
from keras import layers, ops

MODEL_NAME = "Model2_UNet_Autoencoder_Transformer"
TOKENS = 16  # 4 x 4 bottleneck positions after three 2x poolings of 32 x 32

# The seed notebook's hyperparameters; a JSON file with some of these keys (../../shared/keras-reference/
# tiny.json) overrides them. Same keys as the Java side's ModelConfig.toMap().
CONFIG = {
    "filters": [32, 64, 128],  # encoder widths of the three UNet levels
    "embed_dim": 192,          # bottleneck token width (key_dim per head too)
    "num_heads": 4,
    "ff_dim": 640,
    "num_blocks": 3,
    "light_heads": 2,          # autoencoder sub-block transformer (key_dim = filters[1])
    "light_ff_dim": 128,
    "cbam_ratio": 16,
    "ln_epsilon": 1e-6,
    "dropout": 0.1,
}

# The small test network of ../../shared/keras-reference/tiny.json (132,066 parameters).
TINY_OVERRIDES = {"filters": [8, 16, 32], "embed_dim": 24, "num_heads": 2, "ff_dim": 40, "num_blocks": 3,
                  "light_heads": 2, "light_ff_dim": 24, "cbam_ratio": 4}

SEED_PARAMS = 4_491_402  # total of the seed config (4,489,098 trainable + 2,304 BN moving statistics)


def load_config(path=None, **overrides):
    """The seed CONFIG updated by a JSON file (if given) and keyword overrides; unknown keys are refused."""
    config = json.loads(json.dumps(CONFIG))  # deep copy
    updates = {}
    if path is not None:
        with open(path) as f:
            updates.update(json.load(f))
    updates.update(overrides)
    if updates.pop("trainable_pos_embedding", False):
        raise ValueError("trainable_pos_embedding: the Python reference implements only the seed's frozen "
                         "position embedding")
    unknown = sorted(set(updates) - set(CONFIG))
    if unknown:
        raise ValueError(f"model config{' ' + str(path) if path else ''}: unknown keys {unknown}, "
                         f"expected some of {sorted(CONFIG)}")
    config.update(updates)
    if len(config["filters"]) != 3:
        raise ValueError(f"model config: 'filters' must hold 3 widths, found {config['filters']}")
    for width in config["filters"]:
        if width // config["cbam_ratio"] < 1:
            raise ValueError(f"model config: CBAM on {width} channels with cbam_ratio {config['cbam_ratio']} "
                             "leaves no hidden unit")
    return config


def make_pos_embedding(rng, config):
    """The frozen position embedding (1, 16, embed_dim) float32, drawn N(0, 1) from a NumPy generator."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return rng.standard_normal((1, TOKENS, config["embed_dim"])).astype("float32")


def cbam_block(feature, ratio):
    """CBAM: channel attention (a Dense pair shared by the avg and max paths), then 7x7 spatial attention."""
    channels = feature.shape[-1]
    # Both Dense layers exist before either path calls them: that is the seed's naming/initializer order.
    squeeze = layers.Dense(channels // ratio, activation="relu", kernel_initializer="he_normal",
                           use_bias=True, bias_initializer="zeros")
    excite = layers.Dense(channels, kernel_initializer="he_normal", use_bias=True, bias_initializer="zeros")

    avg_path = layers.GlobalAveragePooling2D()(feature)
    avg_path = layers.Reshape((1, 1, channels))(avg_path)
    avg_path = excite(squeeze(avg_path))
    max_path = layers.GlobalMaxPooling2D()(feature)
    max_path = layers.Reshape((1, 1, channels))(max_path)
    max_path = excite(squeeze(max_path))
    channel_weights = layers.Add()([avg_path, max_path])
    channel_weights = layers.Activation("sigmoid")(channel_weights)
    refined = layers.Multiply()([feature, channel_weights])

    channel_mean = layers.Lambda(lambda t: ops.mean(t, axis=3, keepdims=True))(refined)
    channel_max = layers.Lambda(lambda t: ops.max(t, axis=3, keepdims=True))(refined)
    pooled = layers.Concatenate(axis=3)([channel_mean, channel_max])
    spatial_weights = layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid",
                                    kernel_initializer="he_normal", use_bias=False)(pooled)
    return layers.Multiply()([refined, spatial_weights])


def transformer_block(tokens, num_heads, embed_dim, ff_dim, config):
    """Pre-norm transformer block: x + Dropout(MHA(LN(x))), then + Dropout(FF(LN(.))); key_dim = embed_dim."""
    normed = layers.LayerNormalization(epsilon=config["ln_epsilon"])(tokens)
    attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)(normed, normed)
    attention = layers.Dropout(config["dropout"])(attention)
    attended = layers.Add()([tokens, attention])
    normed = layers.LayerNormalization(epsilon=config["ln_epsilon"])(attended)
    hidden = layers.Dense(ff_dim, activation="relu")(normed)
    hidden = layers.Dense(embed_dim)(hidden)
    hidden = layers.Dropout(config["dropout"])(hidden)
    return layers.Add()([attended, hidden])


def conv(filters, kernel=(3, 3), **kwargs):
    """Conv2D with the seed's defaults: relu, same padding (glorot_uniform kernel, zero bias)."""
    kwargs.setdefault("activation", "relu")
    return layers.Conv2D(filters, kernel, padding="same", **kwargs)


def up(filters):
    """Conv2DTranspose 3x3, stride 2, relu, same padding."""
    return layers.Conv2DTranspose(filters, (3, 3), strides=(2, 2), activation="relu", padding="same")


def decoder(bottleneck, skip1, skip2, skip3, head_name, config):
    """One decoder: (4, 4, embed) bottleneck + encoder skips -> (32, 32, 1) sigmoid head named `head_name`."""
    f1, f2, f3 = config["filters"]
    ratio = config["cbam_ratio"]

    d = up(f3)(bottleneck)
    d = layers.BatchNormalization()(d)
    d = layers.Concatenate()([d, skip3])
    d = conv(f3)(d)
    d = layers.BatchNormalization()(d)
    d = cbam_block(d, ratio)                                  # (8, 8, f3)

    d = up(f2)(d)
    d = layers.BatchNormalization()(d)
    d = layers.Concatenate()([d, skip2])
    d = conv(f2)(d)
    d = layers.BatchNormalization()(d)
    d = cbam_block(d, ratio)                                  # (16, 16, f2)

    # Autoencoder sub-block: replaces d (no skip connection around it).
    a = conv(f2, strides=2)(d)
    a = layers.BatchNormalization()(a)                        # (8, 8, f2)
    _, height, width, channels = a.shape
    tokens = layers.Reshape((height * width, channels))(a)
    tokens = transformer_block(tokens, config["light_heads"], channels, config["light_ff_dim"], config)
    a = layers.Reshape((height, width, channels))(tokens)
    a = up(f2)(a)
    d = layers.BatchNormalization()(a)                        # (16, 16, f2)

    d = up(f1)(d)
    d = layers.BatchNormalization()(d)
    d = layers.Concatenate()([d, skip1])
    d = conv(f1)(d)
    d = layers.BatchNormalization()(d)
    d = cbam_block(d, ratio)                                  # (32, 32, f1)
    return conv(1, activation="sigmoid", name=head_name)(d)


def build_model(pos_embedding, config=None):
    """The seed network: input `input_img` (batch, 32, 32, 1) -> [decoded1 (MNIST), decoded2 (Fashion)].

    `pos_embedding`: float32 array (1, 16, embed_dim), added as an untracked constant (never trained).
    """
    config = CONFIG if config is None else config
    f1, f2, f3 = config["filters"]
    embed_dim = config["embed_dim"]
    pos_embedding = np.asarray(pos_embedding, dtype="float32")
    if pos_embedding.shape != (1, TOKENS, embed_dim):
        raise ValueError(f"pos_embedding: expected shape {(1, TOKENS, embed_dim)}, found {pos_embedding.shape}")

    input_img = keras.Input(shape=(32, 32, 1), name="input_img")
    e1 = conv(f1)(input_img)
    e1 = conv(f1)(e1)                                         # skip 1 (32, 32, f1)
    x = layers.MaxPooling2D((2, 2), padding="same")(e1)
    e2 = conv(f2)(x)
    e2 = conv(f2)(e2)                                         # skip 2 (16, 16, f2)
    x = layers.MaxPooling2D((2, 2), padding="same")(e2)
    e3 = conv(f3)(x)
    e3 = conv(f3)(e3)                                         # skip 3 (8, 8, f3)
    x = layers.MaxPooling2D((2, 2), padding="same")(e3)      # (4, 4, f3)

    x = layers.Reshape((TOKENS, f3))(x)                       # token = 4 * h + w
    x = layers.Dense(embed_dim)(x)
    x = x + pos_embedding                                     # bare op: frozen, untracked, not saved as a weight
    for _ in range(config["num_blocks"]):
        x = transformer_block(x, config["num_heads"], embed_dim, config["ff_dim"], config)
    bottleneck = layers.Reshape((4, 4, embed_dim))(x)

    decoded1 = decoder(bottleneck, e1, e2, e3, "decoded1", config)
    decoded2 = decoder(bottleneck, e1, e2, e3, "decoded2", config)
    model = keras.Model(inputs=input_img, outputs=[decoded1, decoded2], name=MODEL_NAME)
    if model.layers[1].name != "conv2d":
        warnings.warn(f"layer names are shifted (first conv is {model.layers[1].name!r}, expected 'conv2d'): "
                      "another model was built in this session; call keras.backend.clear_session() before "
                      "keras.utils.set_random_seed(...) and build_model(...) to get the fixtures' names")
    return model


def count_params(model):
    """(total, trainable, non_trainable) parameter counts (the position embedding is not among them)."""
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    non_trainable = sum(int(np.prod(v.shape)) for v in model.non_trainable_weights)
    return trainable + non_trainable, trainable, non_trainable


def load_keras_file(path):
    """`keras.models.load_model` for a `.keras` file of this network (ours, the fixtures', Java's exports).

    The CBAM lambdas are stored as bytecode (hence `safe_mode=False`) that calls `ops.mean` / `ops.max`;
    Keras rebuilds them with its own `python_utils` module as their globals, where `ops` is not defined
    (the old Lambda limitation, keras-team/keras#15759), so it is made resolvable there first.
    """
    try:
        from keras.src.utils import python_utils
        if not hasattr(python_utils, "ops"):
            python_utils.ops = ops
    except ImportError:  # another Keras layout: the load below then says what is missing
        pass
    return keras.models.load_model(path, safe_mode=False)

