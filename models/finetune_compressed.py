#!/usr/bin/python3
"""Fine-tune a bundled model with compressed weights and export it as plain ONNX.

    /usr/bin/python3 models/finetune_compressed.py --model fashion_mlp --circulant 8
    /usr/bin/python3 models/finetune_compressed.py --model fashion_mlp --prune 0.15 --codebook-bits 4
    /usr/bin/python3 models/finetune_compressed.py --model fashion_lstm --circulant 8 --dense-head

Starts from the bundled weights (models/NAME/1/model.pt) and fine-tunes with projected gradient
descent: after every optimiser step each weight matrix is projected back onto its constraint set,
  --circulant B   the nearest block-circulant matrix (each b x b block's wrapped diagonals averaged,
                  the same projection as softdpu's --circulant; matrices with fewer than B rows or
                  columns stay dense, as softdpu leaves them);
  --prune D       the magnitude mask chosen before fine-tuning (D of the weights kept); with
                  --codebook-bits N the surviving weights are then shared through a k-means codebook
                  (linear initialisation, 2^N - 1 non-zero values per matrix).
The export is a plain ONNX model whose matrices are exactly block-circulant / sparse, so softdpu's
lossless detection stores them compressed with no flags. Writes models/NAME_circB/ or
models/NAME_pruneP[_cbN]/ (model.onnx, config.json) and tests/data/models/<that name>/ via train.py's
export (which re-checks the ONNX graph against PyTorch).
"""

import argparse
import os
import sys
import time
import types

# Before torch starts libgomp (see train.py: spinning OpenMP waits are ~8x slower on this shared
# machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402


def compressible(model):
    """The 2-D weight matrices softdpu treats as weight layers (Linear, LSTM/GRU W and R)."""
    return [p for name, p in model.named_parameters() if p.dim() == 2 and "weight" in name]


def circulant_index(n, k, b):
    """Per entry of an n x k matrix: the id of its (block, wrapped diagonal) group."""
    r = torch.arange(n)[:, None]
    s = torch.arange(k)[None, :]
    q = (k + b - 1) // b
    return (((r // b) * q + s // b) * b + (r % b - s % b) % b).flatten()


class CirculantProjector:
    def __init__(self, params, b):
        self.items = []
        for p in params:
            n, k = p.shape
            if n < b or k < b:
                continue  # softdpu leaves it dense too (one block would exceed the matrix)
            idx = circulant_index(n, k, b)
            groups = int(idx.max()) + 1
            count = torch.zeros(groups).index_add_(0, idx, torch.ones(idx.numel()))
            self.items.append((p, idx, groups, count))

    @torch.no_grad()
    def __call__(self):
        for p, idx, groups, count in self.items:
            mean = torch.zeros(groups).index_add_(0, idx, p.flatten()) / count.clamp(min=1)
            p.copy_(mean[idx].view_as(p))


class MaskProjector:
    def __init__(self, params, density):
        self.items = []
        for p in params:
            keep = int(round(density * p.numel()))
            order = torch.argsort(p.detach().abs().flatten(), descending=True, stable=True)
            mask = torch.zeros(p.numel())
            mask[order[:keep]] = 1
            self.items.append((p, mask.view_as(p)))

    @torch.no_grad()
    def __call__(self):
        for p, mask in self.items:
            p.mul_(mask)


def kmeans_share(p, bits):
    """Replaces the non-zeros of p by 2^bits - 1 shared values (1-D Lloyd, linear init)."""
    w = p.detach().numpy().copy()
    nz = w != 0
    v = np.sort(w[nz].astype(np.float64))
    c = np.linspace(v[0], v[-1], (1 << bits) - 1)
    for _ in range(300):
        edges = (c[1:] + c[:-1]) / 2
        lab = np.searchsorted(edges, v)
        new = np.array([v[lab == i].mean() if np.any(lab == i) else c[i] for i in range(len(c))])
        if np.array_equal(new, c):
            break
        c = np.sort(new)
    c = c.astype(np.float32)
    lab = np.searchsorted((c[1:] + c[:-1]) / 2, w[nz])
    w[nz] = c[lab]
    with torch.no_grad():
        p.copy_(torch.from_numpy(w))


def finetune(model, shape, epochs, lr, train_set, test_set, project, seed):
    images, labels = train_set
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((images.shape[0] + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    project()
    print(f"  projected, before fine-tuning: test acc "
          f"{T.evaluate(model, *test_set, shape, fast=True) * 100:.2f}%", flush=True)
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(images.shape[0], generator=gen)
        for i in range(0, images.shape[0], 128):
            idx = perm[i:i + 128]
            x, y = T.to_input(images[idx], shape), labels[idx]
            opt.zero_grad()
            loss = loss_fn(model.train_forward(x), y)
            loss.backward()
            if isinstance(model, T.FashionRNN):
                nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            project()
        print(f"  epoch {epoch + 1}/{epochs}: test acc "
              f"{T.evaluate(model, *test_set, shape, fast=True) * 100:.2f}%, {time.time() - t0:.1f}s",
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, choices=["fashion_mlp", "fashion_lstm", "fashion_gru"])
    ap.add_argument("--circulant", type=int)
    ap.add_argument("--prune", type=float)
    ap.add_argument("--codebook-bits", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dense-head", action="store_true",
                    help="leave the classifier (the last Linear, 10 outputs) dense: at b = 8 its "
                    "10 x 128 matrix would keep only 256 of its 1280 weights")
    args = ap.parse_args()
    if (args.circulant is None) == (args.prune is None):
        ap.error("give exactly one of --circulant B and --prune D")
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    T.seed_everything(args.seed)
    ctor, shape, _, _, _ = T.MODELS[args.model]
    model = ctor()
    model.load_state_dict(torch.jit.load(
        os.path.join(T.REPO, "models", args.model, "1", "model.pt")).state_dict())
    train_set = T.load_split(T.DEFAULT_DATA_DIR, "train")
    test_set = T.load_split(T.DEFAULT_DATA_DIR, "t10k")
    print(f"{args.model}: bundled weights, test acc "
          f"{T.evaluate(model, *test_set, shape) * 100:.2f}%", flush=True)
    if args.circulant:
        # compressible() lists the classifier last (net.5 / fc).
        layers = compressible(model)[:-1] if args.dense_head else compressible(model)
        project = CirculantProjector(layers, args.circulant)
        name = f"{args.model}_circ{args.circulant}"
    else:
        project = MaskProjector(compressible(model), args.prune)
        name = f"{args.model}_prune{int(round(args.prune * 100))}"
        if args.codebook_bits:
            name += f"_cb{args.codebook_bits}"
    finetune(model, shape, args.epochs, args.lr, train_set, test_set, project, args.seed)
    if args.codebook_bits:
        for p in compressible(model):
            kmeans_share(p, args.codebook_bits)
    acc = T.evaluate(model, *test_set, shape)
    out = types.SimpleNamespace(models_dir=os.path.join(T.REPO, "models"),
                                test_data_dir=os.path.join(T.REPO, "tests", "data", "models"),
                                torchscript=False)
    T.export(name, model, shape, test_set, acc, args.epochs, out)


if __name__ == "__main__":
    sys.exit(main())
