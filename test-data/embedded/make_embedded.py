#!/usr/bin/env python3
"""Cuts the embedded default data set from the official MNIST and Fashion-MNIST IDX files.

Usage (from the repository root):  python3 test-data/embedded/make_embedded.py ../shared/data test-data/embedded

For each of mnist/ and fashion-mnist/:
  - t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz: copied byte for byte (the full official test sets);
  - train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz: the first 10,000 items of the official training files,
    in their original order, with the IDX header's count changed to 10000, gzip level 9, mtime 0 (so the output is
    reproducible byte for byte with the same zlib).
The input files are checked against the SHA-256 sums pinned below before anything is written.
Only the Python standard library is used.
"""
import gzip
import hashlib
import os
import shutil
import struct
import sys

SUBSET = 10_000
INPUT_SHA256 = {
    "mnist/train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "mnist/train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "mnist/t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "mnist/t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "fashion-mnist/train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "fashion-mnist/train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "fashion-mnist/t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "fashion-mnist/t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cut(src, dst, name):
    with gzip.open(src, "rb") as f:
        raw = f.read()
    magic, count = struct.unpack(">II", raw[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", raw[8:16])
        header = struct.pack(">IIII", magic, SUBSET, rows, cols)
        body = raw[16:16 + SUBSET * rows * cols]
    elif magic == 2049:
        header = struct.pack(">II", magic, SUBSET)
        body = raw[8:8 + SUBSET]
    else:
        raise SystemExit(f"{src}: unexpected IDX magic {magic}")
    tmp = dst + ".tmp"
    with open(tmp, "wb") as out:
        with gzip.GzipFile(filename=name, mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
            gz.write(header + body)
    os.replace(tmp, dst)


def main(src_root, dst_root):
    for rel, expected in INPUT_SHA256.items():
        found = sha256(os.path.join(src_root, rel))
        if found != expected:
            raise SystemExit(f"{rel}: sha256 {found}, expected {expected}")
    for rel in INPUT_SHA256:
        src = os.path.join(src_root, rel)
        dst = os.path.join(dst_root, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.basename(rel).startswith("t10k-"):
            shutil.copyfile(src, dst)
        else:
            cut(src, dst, os.path.basename(rel)[:-3])
        print(f"{sha256(dst)}  {rel}  ({os.path.getsize(dst)} bytes)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
