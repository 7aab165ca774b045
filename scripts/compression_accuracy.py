#!/usr/bin/python3
"""Fashion-MNIST test accuracy of the bundled models under softdpu's compressed weight formats
(docs/compression.md), measured through the real command line: `softdpu run` on all 10,000 test
images in batches, with the compression flags given after the model name.

    /usr/bin/python3 scripts/compression_accuracy.py [--softdpu build/softdpu] [--batch 1000]

Prints one Markdown table row per (model, flags). Needs numpy only; the data is Debian's
Fashion-MNIST (/usr/share/datasets/fashion-mnist).
"""

import argparse
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIGS = [
    [],
    ["--circulant", "4"],
    ["--circulant", "8"],
    ["--circulant", "16"],
    ["--prune", "0.5"],
    ["--prune", "0.25"],
    ["--prune", "0.15", "--codebook-bits", "4"],
    ["--prune", "0.1", "--codebook-bits", "4"],
]
MODELS = {"fashion_mlp": (1, 28, 28), "fashion_lstm": (28, 28), "fashion_gru": (28, 28)}
# Fine-tuned compressed variants (models/finetune_compressed.py) take their base model's input.
for _d in sorted(os.listdir(os.path.join(ROOT, "models"))):
    for _base, _shape in list(MODELS.items()):
        if _d.startswith(_base + "_") and os.path.exists(os.path.join(ROOT, "models", _d, "1")):
            MODELS[_d] = _shape


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def weight_bytes(softdpu, model, flags):
    out = subprocess.run([softdpu, "info", model, "--json"] + flags, check=True,
                         capture_output=True, text=True).stdout
    import json
    return json.loads(out)["weight_bytes"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--softdpu", default=os.path.join(ROOT, "build", "softdpu"))
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    images = idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    labels = idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    print("| model | flags | weight bytes | compression | test accuracy |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, shape in MODELS.items():
            if args.only and name != args.only:
                continue
            model = os.path.join(ROOT, "models", name, "1", "model.onnx")
            batches = []
            for b0 in range(0, len(images), args.batch):
                path = os.path.join(tmp, f"{name}_{b0}.npy")
                np.save(path, images[b0:b0 + args.batch].reshape((-1,) + shape))
                batches.append(path)
            base = name.split("_")[0] + "_" + name.split("_")[1]  # fashion_mlp_circ8 -> fashion_mlp
            dense_bytes = weight_bytes(args.softdpu, os.path.join(ROOT, "models", base, "1",
                                                                  "model.onnx"), [])
            # Fine-tuned models: as detected (no flags); pruned ones also with their codebook
            # (exact: they hold at most 15 distinct non-zeros per layer).
            variants = [[]] + ([["--prune", "1", "--codebook-bits", "4"]] if "_cb" in name else [])
            for flags in (CONFIGS if name in ("fashion_mlp", "fashion_lstm", "fashion_gru")
                          else variants):
                correct = 0
                for i, path in enumerate(batches):
                    out = os.path.join(tmp, "out")
                    subprocess.run([args.softdpu, "run", model, "-i", "input=" + path, "-o", out]
                                   + flags, check=True, capture_output=True)
                    logits = np.load(os.path.join(out, "logits.npy"))
                    y = labels[i * args.batch: i * args.batch + len(logits)]
                    correct += int((logits.argmax(1) == y).sum())
                wb = weight_bytes(args.softdpu, model, flags)
                print(f"| {name} | `{' '.join(flags) or ('(fp32)' if base == name else '(no flags: detected)')}` | {wb:,} | {dense_bytes / wb:.1f}x "
                      f"| {100.0 * correct / len(images):.2f}% |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
