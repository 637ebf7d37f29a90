"""Cross-checks models exported by the Java side (`bss export`) in Python Keras / TensorFlow.

Each given model runs on `--inputs` and its two outputs are compared with the outputs Java computed
(`--expected DECODED1.npy DECODED2.npy`): max abs diff, the worst element, the count over `--atol`.

  python3 check_java_exports.py --inputs X.npy --expected D1.npy D2.npy [--atol 1e-4] [--json]
      [--weights-h5 MODEL.weights.h5 --config seed|tiny|CONFIG.json [--pos-embedding POS.npy]]
      [--keras MODEL.keras]
      [--savedmodel DIR]

- `--weights-h5`: builds bss_reference.model with `--config` (seed, tiny, a JSON of config keys such as
  tiny.json or a checkpoint's model.json, or a fixture's variables.json) and runs `model.load_weights(FILE)`.
  A Keras 3 `.weights.h5` holds no position embedding (in Keras it is not a weight). Give it with
  `--pos-embedding POS.npy` (float32 (1, 16, embed_dim)); without that option the file itself is searched
  for exactly one dataset of shape (1, 16, embed_dim) (where the Java exporter puts the embedding next to the
  Keras layout), and the check stops with a message if there is none or more than one.
- `--keras`: `keras.models.load_model(FILE, safe_mode=False)` through `bss_reference.model.load_keras_file`
  (the CBAM Lambda layers need safe_mode off and `ops` resolvable); the position embedding comes from the
  file's own config.
- `--savedmodel`: `tf.saved_model.load(DIR).signatures["serving_default"](input_img=...)`, outputs by name
  `decoded1` / `decoded2`. Needs the TensorFlow backend installed (TF 2.18).

Exit status: 0 when every check is within --atol, 1 when one is not or a model fails to load, 2 on bad
arguments or input files.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class BadInput(Exception):
    """A user error: one line, exit status 2."""


def load_array(path, what, shape=None):
    if not os.path.isfile(path):
        raise BadInput(f"{what} {path}: no such file")
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise BadInput(f"{what} {path}: not a readable .npy file ({e})")
    if shape is not None and array.shape != shape:
        raise BadInput(f"{what} {path}: expected shape {shape}, found {array.shape}")
    if not np.all(np.isfinite(array)):
        raise BadInput(f"{what} {path}: contains NaN or Inf")
    return array.astype(np.float32)


def resolve_config(value):
    """seed | tiny | a JSON file of config keys | a JSON with a "config" object (a fixture's variables.json)."""
    from bss_reference import model as reference

    if value == "seed":
        return reference.load_config()
    if value == "tiny":
        return reference.load_config(**reference.TINY_OVERRIDES)
    if not os.path.isfile(value):
        raise BadInput(f"--config {value}: expected seed, tiny or a JSON file, found no such file")
    with open(value) as f:
        try:
            parsed = json.load(f)
        except json.JSONDecodeError as e:
            raise BadInput(f"--config {value}: not JSON ({e})")
    if isinstance(parsed, dict) and isinstance(parsed.get("config"), dict):
        parsed = parsed["config"]
    try:
        return reference.load_config(**parsed)
    except (TypeError, ValueError) as e:
        raise BadInput(f"--config {value}: {e}")


def find_pos_embedding(weights_h5, embed_dim):
    """The single dataset of shape (1, 16, embed_dim) in the file, or a BadInput saying why not."""
    import h5py

    wanted = (1, 16, embed_dim)
    found = []
    with h5py.File(weights_h5, "r") as h5:
        h5.visititems(lambda name, item: found.append(name)
                      if isinstance(item, h5py.Dataset) and item.shape == wanted else None)
        if len(found) == 1:
            return np.asarray(h5[found[0]][()], dtype=np.float32), found[0]
    if not found:
        raise BadInput(f"--weights-h5 {weights_h5}: no dataset of shape {wanted} (the position embedding); "
                       "give it with --pos-embedding POS.npy")
    raise BadInput(f"--weights-h5 {weights_h5}: several datasets of shape {wanted} ({', '.join(found)}); "
                   "give the position embedding with --pos-embedding POS.npy")


def run_weights_h5(path, config, pos_embedding, inputs):
    import keras
    from bss_reference import model as reference

    keras.backend.clear_session()  # fresh auto names (not needed by load_weights, but keeps reports readable)
    model = reference.build_model(pos_embedding, config)
    model.load_weights(path)
    decoded1, decoded2 = model.predict(inputs, verbose=0)
    return decoded1, decoded2


def run_keras(path, inputs):
    import keras
    from bss_reference import model as reference

    keras.backend.clear_session()
    model = reference.load_keras_file(path)
    outputs = model.predict(inputs, verbose=0)
    names = list(getattr(model, "output_names", None) or ["decoded1", "decoded2"])
    if sorted(names) != ["decoded1", "decoded2"]:
        raise RuntimeError(f"{path}: expected outputs decoded1 and decoded2, found {names}")
    by_name = dict(zip(names, outputs))
    return by_name["decoded1"], by_name["decoded2"]


def run_savedmodel(path, inputs):
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    if "serving_default" not in loaded.signatures:
        raise RuntimeError(f"{path}: no serving_default signature, found {sorted(loaded.signatures.keys())}")
    serving = loaded.signatures["serving_default"]
    print(f"  {path}: serving_default inputs {serving.structured_input_signature}, "
          f"outputs {sorted(serving.structured_outputs)}")
    result = serving(input_img=tf.constant(inputs))
    return result["decoded1"].numpy(), result["decoded2"].numpy()


def compare(name, actual, expected, atol):
    actual = np.asarray(actual, dtype=np.float64)
    if actual.shape != expected.shape:
        return {"output": name, "ok": False, "error": f"shape {actual.shape}, expected {expected.shape}"}
    diff = np.abs(actual - expected)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    over = int(np.count_nonzero(diff > atol)) + int(np.count_nonzero(~np.isfinite(actual)))
    return {"output": name, "ok": over == 0, "max_abs_diff": float(diff.max()),
            "worst_index": [int(i) for i in worst], "over_atol": over, "elements": int(diff.size)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True, help="mixtures .npy, (n, 32, 32, 1)")
    parser.add_argument("--expected", nargs=2, required=True, metavar=("DECODED1", "DECODED2"),
                        help="Java's outputs for --inputs, .npy (n, 32, 32, 1) each")
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--weights-h5", help="a Java-exported Keras 3 .weights.h5")
    parser.add_argument("--config", default="seed", help="config for --weights-h5: seed, tiny or a JSON file")
    parser.add_argument("--pos-embedding", help="position embedding .npy (1, 16, embed_dim) for --weights-h5")
    parser.add_argument("--keras", help="a Java-exported .keras file")
    parser.add_argument("--savedmodel", help="a Java-exported SavedModel directory")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    try:
        if not (args.weights_h5 or args.keras or args.savedmodel):
            raise BadInput("give at least one of --weights-h5, --keras, --savedmodel")
        inputs = load_array(args.inputs, "--inputs")
        if inputs.ndim != 4 or inputs.shape[1:] != (32, 32, 1):
            raise BadInput(f"--inputs {args.inputs}: expected shape (n, 32, 32, 1), found {inputs.shape}")
        expected = [load_array(p, "--expected", inputs.shape).astype(np.float64) for p in args.expected]

        runs = []
        if args.weights_h5:
            if not os.path.isfile(args.weights_h5) or not args.weights_h5.endswith(".weights.h5"):
                raise BadInput(f"--weights-h5 {args.weights_h5}: expected an existing file named *.weights.h5")
            config = resolve_config(args.config)
            shape = (1, 16, config["embed_dim"])
            if args.pos_embedding:
                pos, source = load_array(args.pos_embedding, "--pos-embedding", shape), args.pos_embedding
            else:
                pos, source = find_pos_embedding(args.weights_h5, config["embed_dim"])
            runs.append((f"weights.h5 (pos_embedding from {source})",
                         lambda: run_weights_h5(args.weights_h5, config, pos, inputs)))
        if args.keras:
            if not os.path.isfile(args.keras):
                raise BadInput(f"--keras {args.keras}: no such file")
            runs.append(("keras", lambda: run_keras(args.keras, inputs)))
        if args.savedmodel:
            if not os.path.isfile(os.path.join(args.savedmodel, "saved_model.pb")):
                raise BadInput(f"--savedmodel {args.savedmodel}: expected a directory with saved_model.pb")
            runs.append(("savedmodel", lambda: run_savedmodel(args.savedmodel, inputs)))
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    results = []
    for label, run in runs:
        try:
            outputs = run()
        except Exception as e:  # a model that does not load or run is a failed check, reported in one line
            results.append({"model": label, "ok": False, "error": f"{type(e).__name__}: {e}"})
            continue
        checks = [compare(name, out, exp, args.atol)
                  for name, out, exp in zip(("decoded1", "decoded2"), outputs, expected)]
        results.append({"model": label, "ok": all(c["ok"] for c in checks), "outputs": checks})

    if args.json:
        print(json.dumps({"atol": args.atol, "results": results}, indent=1))
    else:
        for r in results:
            if "error" in r:
                print(f"{r['model']}: FAIL {r['error']}")
                continue
            for c in r["outputs"]:
                if "error" in c:
                    print(f"{r['model']} {c['output']}: FAIL {c['error']}")
                else:
                    print(f"{r['model']} {c['output']}: max |diff| {c['max_abs_diff']:.3g} at {tuple(c['worst_index'])}, "
                          f"{c['over_atol']}/{c['elements']} over atol {args.atol:g}: "
                          f"{'PASS' if c['ok'] else 'FAIL'}")
    ok = all(r["ok"] for r in results)
    print("all within tolerance" if ok else "NOT all within tolerance", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
