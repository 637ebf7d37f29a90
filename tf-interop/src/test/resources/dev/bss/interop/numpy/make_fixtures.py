"""Makes the small NumPy fixtures NpyTest/NpzTest read (run from this folder: python3 make_fixtures.py).

Deterministic: values are arange-based, so rerunning gives byte-identical files for a given NumPy version.
"""
import numpy as np

x = (np.arange(3 * 28 * 28) % 256).astype(np.uint8).reshape(3, 28, 28)
y = np.array([7, 0, 255], dtype=np.int64)
w = (np.arange(6, dtype=np.float64) / 3.0 - 0.5).reshape(2, 3)
f = (np.arange(24, dtype=np.float32) * 0.25 - 1.0).reshape(2, 3, 4)
np.savez_compressed("real_compressed.npz", x_train=x, y_train=y, w=w)
np.savez("real_stored.npz", f=f, scalar=np.float32(3.5))
for version in [(2, 0), (3, 0)]:
    with open("real_v%d.npy" % version[0], "wb") as fh:
        np.lib.format.write_array(fh, f, version=version)
np.save("real_f8.npy", w)
