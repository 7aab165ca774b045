#!/usr/bin/python3
"""Train and export softdpu's bundled Fashion-MNIST models.

Run with Debian's interpreter (it has torch 1.13, onnx 1.12, numpy):

    /usr/bin/python3 models/train.py                 # all four models
    /usr/bin/python3 models/train.py --only fashion_cnn --epochs 2

For each model NAME this writes, relative to the repository root:

    models/NAME/1/model.onnx            ONNX, opset 17, input "input", output "logits", batch axis "batch"
    models/NAME/1/model.pt              TorchScript (torch.jit.trace), unless --no-torchscript or > 5 MB
    models/NAME/config.json             model repository config
    tests/data/models/NAME/input.npy    first 8 test images, model input shape, float32
    tests/data/models/NAME/logits.npy   PyTorch eval-mode logits for input.npy, float32
    tests/data/models/NAME/input1.npy   first test image only (batch 1)
    tests/data/models/NAME/logits1.npy  PyTorch eval-mode logits for input1.npy

Every exported graph is checked with onnx.checker and then re-evaluated by a small numpy interpreter
in this file (no onnxruntime on this machine) and compared against PyTorch on the reference images.
The data is Debian's Fashion-MNIST (package fashion-mnist), read from its IDX files; nothing is
downloaded.
"""

import argparse
import gzip
import json
import os
import random
import sys
import time
import warnings

# Must be set before libgomp starts. The machine's 2 cores are shared: with the default (spinning)
# OpenMP wait policy a 2-thread torch op stalls whenever the other thread is descheduled, which made
# training ~8x slower here. Passive waiting keeps the 2 threads without the spin-wait penalty.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST train-set pixel mean/std (pixels scaled to [0, 1])
OPSET = 17
MAX_BATCH = 8
TORCHSCRIPT_LIMIT = 5 * 1024 * 1024
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


# ----------------------------------------------------------------------------------------- data

def read_idx(path):
    """Parse a gzipped IDX file (big-endian header: 0, 0, dtype code, ndim, then ndim uint32 dims)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {np.prod(dims)} bytes of data, got {data.size}")
    return data.reshape(tuple(dims))


def load_split(data_dir, split):
    images = read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz"))
    assert images.shape[0] == labels.shape[0] and images.shape[1:] == (28, 28)
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


# --------------------------------------------------------------------------------------- models

class Normalize(nn.Module):
    """(x - mean) / std, inside the graph, so callers feed raw pixels / 255."""

    def forward(self, x):
        return (x - MEAN) / STD


class FashionMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = Normalize()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, 10))

    def forward(self, x):  # [B, 1, 28, 28]
        return self.net(self.norm(x))

    def train_forward(self, x):  # forward() with oneDNN products, for training (see _MatMulNT)
        return _sequential_fast(self.net, self.norm(x))


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = Normalize()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
            nn.Dropout(0.25),
            nn.Linear(128, 10))

    def forward(self, x):  # [B, 1, 28, 28]
        return self.classifier(self.features(self.norm(x)))

    def train_forward(self, x):  # forward() with oneDNN products, for training (see _MatMulNT)
        return _sequential_fast(self.classifier, self.features(self.norm(x)))


class FashionRNN(nn.Module):
    """Image rows are time steps: [B, 28 steps, 28 features] -> RNN -> last hidden -> Linear."""

    def __init__(self, cell):
        super().__init__()
        self.norm = Normalize()
        self.rnn = cell(input_size=28, hidden_size=128, num_layers=1, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):  # [B, 28, 28]
        _, state = self.rnn(self.norm(x))
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM returns (h_n, c_n)
        return self.fc(h_n.squeeze(0))  # [1, B, 128] -> [B, 128]: the hidden state after the last row

    def train_forward(self, x):  # forward() with oneDNN products, for training (see _MatMulNT)
        return self.fc(_rnn_last_hidden(self.rnn, self.norm(x)))


# Debian's torch links the reference (netlib) BLAS, so nn.Linear / nn.LSTM / nn.GRU training is
# BLAS-bound at ~1 GFLOP/s or less. oneDNN is linked too (it runs the convolutions), so each model has
# a train_forward() that computes the same function as forward() but does its matrix products as 1x1
# convolutions. It uses the model's own parameters (nothing to copy back) and is only used for
# training and per-epoch progress: check_train_forward() asserts it matches forward(), and the
# reported accuracy, reference logits and exports all come from forward().

def _mm_nt(a, b):
    """a [M, K] @ b[N, K].T -> [M, N], computed by oneDNN as a 1x1 convolution (no autograd)."""
    return F.conv2d(a[:, :, None, None], b[:, :, None, None]).flatten(1)


class _MatMulNT(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _mm_nt(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = _mm_nt(g, b.t().contiguous()) if ctx.needs_input_grad[0] else None
        gb = _mm_nt(g.t().contiguous(), a.t().contiguous()) if ctx.needs_input_grad[1] else None
        return ga, gb


def _sequential_fast(seq, x):
    """seq(x) with its nn.Linear layers done by _MatMulNT."""
    for layer in seq:
        x = _MatMulNT.apply(x, layer.weight) + layer.bias if isinstance(layer, nn.Linear) else layer(x)
    return x


def _rnn_last_hidden(rnn, x):
    """Final hidden state of a 1-layer, unidirectional, batch_first nn.LSTM / nn.GRU, zero initial
    state, x [B, T, I] -> [B, H]. PyTorch gate order: LSTM i, f, g, o; GRU r, z, n."""
    assert rnn.num_layers == 1 and not rnn.bidirectional and rnn.batch_first and rnn.bias
    bsz, steps, _ = x.shape
    hid = rnn.hidden_size
    is_lstm = isinstance(rnn, nn.LSTM)
    xw = _MatMulNT.apply(x.reshape(bsz * steps, -1), rnn.weight_ih_l0).view(bsz, steps, -1)
    # unbind (not x[:, t]) so autograd stacks the per-step grads instead of adding full-size zeros
    xw = (xw + (rnn.bias_ih_l0 + rnn.bias_hh_l0 if is_lstm else rnn.bias_ih_l0)).unbind(1)
    h = x.new_zeros(bsz, hid)
    c = x.new_zeros(bsz, hid)
    for t in range(steps):
        hw = _MatMulNT.apply(h, rnn.weight_hh_l0)
        if is_lstm:
            i, f, g, o = (xw[t] + hw).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            hw = hw + rnn.bias_hh_l0
            xr, xz, xn = xw[t].chunk(3, 1)
            hr, hz, hn = hw.chunk(3, 1)
            r = torch.sigmoid(xr + hr)
            z = torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            h = n + z * (h - n)  # == (1 - z) * n + z * h
    return h


MODELS = {
    # name: (constructor, per-sample input shape, default epochs, learning rate, description)
    "fashion_mlp": (FashionMLP, (1, 28, 28), 5, 1e-3,
                    "MLP 784-256-128-10 with ReLU"),
    "fashion_cnn": (FashionCNN, (1, 28, 28), 3, 1e-3,
                    "2x (Conv3x3 + BatchNorm + ReLU + MaxPool2) + Linear 3136x128 + ReLU + Dropout + Linear 128x10"),
    "fashion_lstm": (lambda: FashionRNN(nn.LSTM), (28, 28), 4, 3e-3,
                     "LSTM(28 -> 128, 1 layer, rows as time steps) + Linear 128x10 on the last step"),
    "fashion_gru": (lambda: FashionRNN(nn.GRU), (28, 28), 4, 3e-3,
                    "GRU(28 -> 128, 1 layer, rows as time steps) + Linear 128x10 on the last step"),
}


def to_input(images_u8, shape):
    """uint8 [N, 28, 28] -> float32 raw pixels / 255 in the model's input shape [N, *shape]."""
    return (images_u8.float() / 255.0).reshape((images_u8.shape[0],) + tuple(shape))


# ------------------------------------------------------------------------------------- training

def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def evaluate(model, images, labels, shape, batch=500, fast=False):
    """Test accuracy. fast=True uses train_forward (per-epoch progress only); the accuracy this
    script reports is always measured with the eval-mode forward() that is exported."""
    model.eval()
    fwd = model.train_forward if fast and hasattr(model, "train_forward") else model
    correct = 0
    for i in range(0, images.shape[0], batch):
        logits = fwd(to_input(images[i:i + batch], shape))
        correct += (logits.argmax(1) == labels[i:i + batch]).sum().item()
    return correct / images.shape[0]


@torch.no_grad()
def check_train_forward(name, model, images, shape):
    """The training-only path must compute the same function as the module it trains."""
    model.eval()
    x = to_input(images[:16], shape)
    err = float((model.train_forward(x) - model(x)).abs().max())
    assert err < 1e-4, f"{name}: train_forward differs from forward by {err}"


def train(name, model, shape, epochs, lr, train_set, test_set, seed, batch_size=128):
    images, labels = train_set
    check_train_forward(name, model, test_set[0], shape)
    fwd = model.train_forward
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((images.shape[0] + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(images.shape[0], generator=gen)
        total, n = 0.0, 0
        for i in range(0, images.shape[0], batch_size):
            idx = perm[i:i + batch_size]
            x, y = to_input(images[idx], shape), labels[idx]
            opt.zero_grad()
            loss = loss_fn(fwd(x), y)
            loss.backward()
            if isinstance(model, FashionRNN):
                nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            total += loss.item() * x.shape[0]
            n += x.shape[0]
        acc = evaluate(model, *test_set, shape, fast=True)
        print(f"  {name} epoch {epoch + 1}/{epochs}: train loss {total / n:.4f}, "
              f"test acc {acc * 100:.2f}%, {time.time() - t0:.1f}s", flush=True)
    check_train_forward(name, model, test_set[0], shape)
    return evaluate(model, *test_set, shape)


# ------------------------------------------------------------------------- ONNX graph clean-up

def drop_zero_rnn_initial_state(model):
    """torch.onnx exports nn.LSTM/nn.GRU's implicit zero initial state as a Shape -> Gather ->
    Unsqueeze -> Concat -> ConstantOfShape(0) chain feeding initial_h / initial_c. ONNX already
    defines a missing initial state as zeros, so drop those inputs and the then-dead nodes: the
    RNN graphs become Sub, Div, Transpose, LSTM/GRU, Squeeze, Gemm. Returns the number of inputs
    dropped."""
    from onnx import numpy_helper
    producers = {o: n for n in model.graph.node for o in n.output}
    dropped = 0
    for node in model.graph.node:
        if node.op_type not in ("LSTM", "GRU"):
            continue
        for k in (5, 6):  # initial_h, initial_c (LSTM only)
            if k >= len(node.input) or not node.input[k]:
                continue
            src = producers.get(node.input[k])
            if src is None or src.op_type != "ConstantOfShape":
                continue
            value = [a for a in src.attribute if a.name == "value"]
            if value and np.any(numpy_helper.to_array(value[0].t) != 0):
                continue
            node.input[k] = ""
            dropped += 1
        while node.input and node.input[-1] == "":
            node.input.pop()
    # prune nodes whose outputs nothing reads (graph outputs count as readers)
    while True:
        used = {i for n in model.graph.node for i in n.input} | {o.name for o in model.graph.output}
        dead = [n for n in model.graph.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            model.graph.node.remove(n)
    used = {i for n in model.graph.node for i in n.input}
    for init in [t for t in model.graph.initializer if t.name not in used]:
        model.graph.initializer.remove(init)
    produced = {o for n in model.graph.node for o in n.output}
    for vi in [v for v in model.graph.value_info if v.name not in produced]:
        model.graph.value_info.remove(vi)
    return dropped


# ---------------------------------------------------- numpy re-evaluation of the exported graph

def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _conv2d(x, w, b, a):
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("Conv: only group=1, dilation=1")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("Conv: auto_pad")
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, c, h, wd = x.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    y = np.einsum("nckloq,mckl->nmoq", cols, w)
    return y + (b.reshape(1, -1, 1, 1) if b is not None else 0)


def _maxpool2d(x, a):
    if any(p != 0 for p in a.get("pads", [0, 0, 0, 0])) or a.get("ceil_mode", 0) or \
            any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("MaxPool: only pads=0, ceil_mode=0, dilation=1")
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    y = np.full((n, c, oh, ow), -np.inf)
    for i in range(kh):
        for j in range(kw):
            y = np.maximum(y, x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw])
    return y


def _check_rnn_attrs(op, a, ins):
    if a.get("direction", b"forward") not in (b"forward", "forward") or a.get("layout", 0) != 0 \
            or "activations" in a or "clip" in a or a.get("input_forget", 0):
        raise NotImplementedError(f"{op}: only forward, layout 0, default activations, no clip")
    if len(ins) > 4 and ins[4] is not None:
        raise NotImplementedError(f"{op}: sequence_lens")


def _lstm(ins, a):
    _check_rnn_attrs("LSTM", a, ins)
    x, w, r = ins[0], ins[1][0], ins[2][0]
    hid = a["hidden_size"]
    seq, batch, _ = x.shape
    b = ins[3][0] if len(ins) > 3 and ins[3] is not None else np.zeros(8 * hid)
    h = ins[5][0] if len(ins) > 5 and ins[5] is not None else np.zeros((batch, hid))
    c = ins[6][0] if len(ins) > 6 and ins[6] is not None else np.zeros((batch, hid))
    if len(ins) > 7 and ins[7] is not None:
        raise NotImplementedError("LSTM: peepholes")
    ys = []
    for t in range(seq):
        g = x[t] @ w.T + h @ r.T + b[:4 * hid] + b[4 * hid:]
        i, o, f, cc = (g[:, k * hid:(k + 1) * hid] for k in range(4))  # ONNX gate order: i, o, f, c
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(cc)
        h = _sigmoid(o) * np.tanh(c)
        ys.append(h)
    return [np.stack(ys)[:, None], h[None], c[None]]


def _gru(ins, a):
    _check_rnn_attrs("GRU", a, ins)
    x, w, r = ins[0], ins[1][0], ins[2][0]
    hid = a["hidden_size"]
    seq, batch, _ = x.shape
    b = ins[3][0] if len(ins) > 3 and ins[3] is not None else np.zeros(6 * hid)
    h = ins[5][0] if len(ins) > 5 and ins[5] is not None else np.zeros((batch, hid))
    lbr = a.get("linear_before_reset", 0)
    wb, rb = b[:3 * hid], b[3 * hid:]
    ys = []
    for t in range(seq):
        xw = x[t] @ w.T + wb  # ONNX gate order: z, r, h
        z = _sigmoid(xw[:, :hid] + h @ r[:hid].T + rb[:hid])
        rr = _sigmoid(xw[:, hid:2 * hid] + h @ r[hid:2 * hid].T + rb[hid:2 * hid])
        if lbr:
            hh = np.tanh(xw[:, 2 * hid:] + rr * (h @ r[2 * hid:].T + rb[2 * hid:]))
        else:
            hh = np.tanh(xw[:, 2 * hid:] + (rr * h) @ r[2 * hid:].T + rb[2 * hid:])
        h = (1 - z) * hh + z * h
        ys.append(h)
    return [np.stack(ys)[:, None], h[None]]


def _slice(ins):
    data, starts, ends = ins[0], ins[1], ins[2]
    axes = ins[3] if len(ins) > 3 and ins[3] is not None else range(len(starts))
    steps = ins[4] if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    sl = [slice(None)] * data.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        sl[int(ax)] = slice(int(s), int(max(min(e, 2 ** 62), -2 ** 62)), int(st))
    return data[tuple(sl)]


def _gemm(ins, a):
    x, w = ins[0], ins[1]
    if a.get("transA", 0):
        x = x.T
    if a.get("transB", 0):
        w = w.T
    y = a.get("alpha", 1.0) * (x @ w)
    if len(ins) > 2 and ins[2] is not None:
        y = y + a.get("beta", 1.0) * ins[2]
    return y


def run_onnx_numpy(model, feeds):
    """Evaluate an ONNX graph in float64 numpy. Supports exactly the ops these models export to and
    raises on anything else, so an unexpected op in an export shows up here."""
    from onnx import numpy_helper
    env = {t.name: numpy_helper.to_array(t).astype(np.float64)
           if numpy_helper.to_array(t).dtype.kind == "f" else numpy_helper.to_array(t)
           for t in model.graph.initializer}
    env.update({k: v.astype(np.float64) for k, v in feeds.items()})
    for node in model.graph.node:
        a = _attrs(node)
        ins = [env[n] if n else None for n in node.input]
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise NotImplementedError(f"non-standard domain {node.domain}")
        if op == "Constant":
            from onnx import numpy_helper as nh
            v = nh.to_array(a["value"])
            outs = [v.astype(np.float64) if v.dtype.kind == "f" else v]
        elif op in ("Add", "Sub", "Mul", "Div"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
            outs = [f(ins[0], ins[1])]
        elif op == "Relu":
            outs = [np.maximum(ins[0], 0)]
        elif op == "Identity":
            outs = [ins[0]]
        elif op == "Flatten":
            ax = a.get("axis", 1)
            outs = [ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)]
        elif op == "Reshape":
            shape = [d if d != 0 else ins[0].shape[i] for i, d in enumerate(ins[1].tolist())]
            outs = [ins[0].reshape(shape)]
        elif op == "Transpose":
            outs = [np.transpose(ins[0], a.get("perm"))]
        elif op == "Squeeze":
            outs = [np.squeeze(ins[0], axis=tuple(ins[1].tolist()) if len(ins) > 1 else None)]
        elif op == "Unsqueeze":
            y = ins[0]
            for ax in sorted(int(v) for v in ins[1].tolist()):
                y = np.expand_dims(y, ax)
            outs = [y]
        elif op == "Shape":
            outs = [np.array(ins[0].shape, dtype=np.int64)]
        elif op == "Gather":
            outs = [np.take(ins[0], ins[1], axis=a.get("axis", 0))]
        elif op == "Slice":
            outs = [_slice(ins)]
        elif op == "Concat":
            outs = [np.concatenate(ins, axis=a["axis"])]
        elif op == "Gemm":
            outs = [_gemm(ins, a)]
        elif op == "MatMul":
            outs = [ins[0] @ ins[1]]
        elif op == "Conv":
            outs = [_conv2d(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)]
        elif op == "MaxPool":
            outs = [_maxpool2d(ins[0], a)]
        elif op == "BatchNormalization":
            x, s, b, m, v = ins
            sh = (1, -1) + (1,) * (x.ndim - 2)
            eps = a.get("epsilon", 1e-5)
            outs = [(x - m.reshape(sh)) / np.sqrt(v.reshape(sh) + eps) * s.reshape(sh) + b.reshape(sh)]
        elif op == "LSTM":
            outs = _lstm(ins, a)
        elif op == "GRU":
            outs = _gru(ins, a)
        else:
            raise NotImplementedError(f"numpy evaluator: op {op}")
        for name, val in zip(node.output, outs):
            if name:
                env[name] = val
    return [env[o.name] for o in model.graph.output]


# ---------------------------------------------------------------------------------------- export

def _export_onnx(model, example, path):
    torch.onnx.export(
        model, (example,), path,
        export_params=True, opset_version=OPSET, do_constant_folding=True,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        training=torch.onnx.TrainingMode.EVAL)


def export(name, model, shape, test_set, accuracy, epochs, args):
    import onnx

    model.eval()
    model_dir = os.path.join(args.models_dir, name)
    version_dir = os.path.join(model_dir, "1")
    data_dir = os.path.join(args.test_data_dir, name)
    os.makedirs(version_dir, exist_ok=True)
    os.makedirs(data_dir, exist_ok=True)

    images = test_set[0]
    x8 = to_input(images[:8], shape).contiguous()
    x1 = x8[:1].clone()
    with torch.no_grad():
        ref8 = model(x8).numpy().astype(np.float32)
        ref1 = model(x1).numpy().astype(np.float32)

    onnx_path = os.path.join(version_dir, "model.onnx")
    with warnings.catch_warnings():
        # torch warns that an implicit RNN initial state is traced for the export batch size; the
        # state is dropped below (ONNX's default is zeros) and batch 1 and 8 are both verified.
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size")
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        _export_onnx(model, x8, onnx_path)

    # PyTorch before vs after export (export must not disturb the module, e.g. BatchNorm stats).
    with torch.no_grad():
        after8 = model(x8).numpy()
    assert np.array_equal(after8, ref8), f"{name}: outputs changed across torch.onnx.export"

    m = onnx.load(onnx_path)
    if drop_zero_rnn_initial_state(m):
        onnx.save(m, onnx_path)
        m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    ops = sorted({n.op_type for n in m.graph.node})
    bad = [n.op_type for n in m.graph.node if n.domain not in ("", "ai.onnx")]
    assert not bad, f"{name}: non-standard ops {bad}"
    assert [i.name for i in m.graph.input] == ["input"], [i.name for i in m.graph.input]
    assert [o.name for o in m.graph.output] == ["logits"]
    in_dims = [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    assert in_dims == ["batch"] + list(shape), in_dims

    # Re-evaluate the ONNX graph itself (numpy, float64) at batch 8 and batch 1 against PyTorch.
    for x, ref in ((x8, ref8), (x1, ref1)):
        (got,) = run_onnx_numpy(m, {"input": x.numpy()})
        err = float(np.max(np.abs(got - ref)))
        assert got.shape == ref.shape and err < 1e-4, f"{name}: ONNX vs torch max abs err {err}"
        print(f"  {name}: onnx (numpy re-eval) vs torch, batch {x.shape[0]}: max abs err {err:.2e}")
    # batch-1 run must agree with row 0 of the batch-8 run
    err_b = float(np.max(np.abs(ref1 - ref8[:1])))
    assert err_b < 1e-4, f"{name}: batch 1 vs batch 8 row 0 differ by {err_b}"

    np.save(os.path.join(data_dir, "input.npy"), x8.numpy().astype(np.float32))
    np.save(os.path.join(data_dir, "logits.npy"), ref8)
    np.save(os.path.join(data_dir, "input1.npy"), x1.numpy().astype(np.float32))
    np.save(os.path.join(data_dir, "logits1.npy"), ref1)

    pt_path = os.path.join(version_dir, "model.pt")
    pt_note = "skipped (--no-torchscript)"
    if args.torchscript:
        with torch.no_grad():
            traced = torch.jit.trace(model, (x8,))
        traced.save(pt_path)
        size = os.path.getsize(pt_path)
        if size > TORCHSCRIPT_LIMIT:
            os.remove(pt_path)
            pt_note = f"skipped: {size} bytes > 5 MB"
        else:
            loaded = torch.jit.load(pt_path)
            with torch.no_grad():
                for x, ref in ((x8, ref8), (x1, ref1)):
                    err = float(np.max(np.abs(loaded(x).numpy() - ref)))
                    assert err < 1e-5, f"{name}: TorchScript vs eager max abs err {err}"
            pt_note = f"{size} bytes"
    elif os.path.exists(pt_path):
        os.remove(pt_path)  # don't leave a stale TorchScript next to a freshly trained ONNX

    n_params = sum(p.numel() for p in model.parameters())
    config = {
        "name": name,
        "platform": "onnx",
        "max_batch_size": MAX_BATCH,
        # shapes exclude the batch dimension (max_batch_size > 0 means dim 0 is the batch axis)
        "inputs": [{"name": "input", "datatype": "FP32", "shape": list(shape)}],
        "outputs": [{"name": "logits", "datatype": "FP32", "shape": [10]}],
    }
    if name in ("fashion_mlp", "fashion_lstm"):
        # the serving benchmark's models: merge what queued while the instance was busy, no
        # waiting (docs/serving.md, "Dynamic batching for the peak")
        config["dynamic_batching"] = {"preferred_batch_size": [2, 4, 8],
                                      "max_queue_delay_microseconds": 0}
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")

    onnx_size = os.path.getsize(onnx_path)
    print(f"RESULT {name}: test acc {accuracy * 100:.2f}% ({epochs} epochs), params {n_params}, "
          f"onnx {onnx_size} bytes, torchscript {pt_note}, ops {','.join(ops)}", flush=True)
    return {"name": name, "accuracy": accuracy, "params": n_params, "onnx_bytes": onnx_size,
            "torchscript": pt_note, "ops": ops, "epochs": epochs}


# ------------------------------------------------------------------------------------------ main

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", choices=sorted(MODELS), metavar="NAME",
                   help=f"train just this model (repeatable); one of {', '.join(MODELS)}")
    p.add_argument("--epochs", type=int, help="epochs for every selected model "
                   "(default per model: " + ", ".join(f"{k} {v[2]}" for k, v in MODELS.items()) + ")")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-limit", type=int, metavar="N",
                   help="train on the first N training images only (smoke tests; not for release)")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    p.add_argument("--torchscript", action=argparse.BooleanOptionalAction, default=True,
                   help="also write models/NAME/1/model.pt via torch.jit.trace (default on)")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    p.add_argument("--test-data-dir", default=os.path.join(REPO, "tests", "data", "models"))
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    train_set = load_split(args.data_dir, "train")
    test_set = load_split(args.data_dir, "t10k")
    if args.train_limit:
        train_set = (train_set[0][:args.train_limit], train_set[1][:args.train_limit])
    print(f"Fashion-MNIST: {train_set[0].shape[0]} train, {test_set[0].shape[0]} test images; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)

    results = []
    t_all = time.time()
    for name in (args.only or list(MODELS)):
        ctor, shape, default_epochs, lr, _ = MODELS[name]
        epochs = args.epochs or default_epochs
        seed_everything(args.seed)
        model = ctor()
        t0 = time.time()
        acc = train(name, model, shape, epochs, lr, train_set, test_set, args.seed)
        print(f"  {name}: trained in {time.time() - t0:.1f}s", flush=True)
        results.append(export(name, model, shape, test_set, acc, epochs, args))

    print(f"\nSummary ({time.time() - t_all:.0f}s total):")
    for r in results:
        print(f"  {r['name']:<13} acc {r['accuracy'] * 100:6.2f}%  params {r['params']:>7}  "
              f"onnx {r['onnx_bytes']:>8} B  pt {r['torchscript']}  epochs {r['epochs']}")


if __name__ == "__main__":
    sys.exit(main())
