#!/usr/bin/python3
"""Generate the peer-benchmark model set (issue #6) as ONNX + TorchScript, with random weights.

Run with Debian's interpreter (torch 1.13, onnx, numpy):

    /usr/bin/python3 bench/peers/make_models.py [--out build/peer-models] [--only lstm_h512,...]

For every generated model NAME it writes OUT/NAME/:

    model.onnx     ONNX opset 17, batch fixed to 1 (the peers are batch-1 benchmarks)
    model.pt       TorchScript (torch.jit.trace) of the same module, for the LibTorch peer
    input.npy      the one batch-1 input, drawn from a fixed seed (every engine reads this file)
    expected.npy   PyTorch's eager output for input.npy (float32): the agreement reference

    meta.json      what the manifest says about this model

and OUT/manifest.json, which lists these models AND the four bundled Fashion-MNIST models (their
committed models/NAME/1/model.{onnx,pt} and tests/data/models/NAME/{input1,logits1}.npy), with the
input/output names, shapes, parameter counts and weight bytes. bench/peers/run.py reads only the
manifest.

The shapes (DeepBench's RNN inference set at batch 1, plus the NLP, CNN and attention cases):

    lstm_h512/1024/1536   nn.LSTM(H, H), 1 layer, input [25, 1, H] (seq-major), output Y [25, 1, H]
    gru_h512/1024/2816    nn.GRU(H, H), same layout
    nlp_lstm              Embedding 20000x256 -> LSTM(256, 1024, 2 layers) -> last step ->
                          Linear 1024x5000; int64 tokens [1, 32] -> logits [1, 5000]; 23.9 M params
    resnet_cnn            ResNet-style: conv3x3 3->32 + BN + ReLU, basic blocks 32 (s1), 64 (s2),
                          128 (s2) with 1x1 projection shortcuts, global average pool, Linear 128x10;
                          input [1, 3, 64, 64]
    transformer_enc       nn.TransformerEncoderLayer(d 256, 4 heads, FF 1024, ReLU, post-norm,
                          dropout 0), batch_first; input [1, 64, 256]

Weights are PyTorch's default initialisation under torch.manual_seed(SEED); BatchNorm running
statistics are randomised too (otherwise eval-mode BN is the identity and folds away trivially).
Every export is checked: onnx.checker, and TorchScript reloaded and compared with eager PyTorch.
"""

import argparse
import json
import os
import sys
import warnings

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # shared 2-core machine: see models/train.py

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "models"))
from train import drop_zero_rnn_initial_state  # noqa: E402  (same clean-up as the bundled models)

OPSET = 17
SEED = 20260606
SEQ_RNN = 25
BUNDLED = ["fashion_mlp", "fashion_cnn", "fashion_lstm", "fashion_gru"]


# ------------------------------------------------------------------------------------ the models

class Rnn(nn.Module):
    """One LSTM or GRU layer over a whole sequence; returns every step's hidden state (DeepBench
    times the full layer, not just the last step)."""

    def __init__(self, cell, hidden):
        super().__init__()
        self.rnn = cell(hidden, hidden)

    def forward(self, x):
        y, _ = self.rnn(x)
        return y


class NlpLstm(nn.Module):
    def __init__(self, vocab=20000, embed=256, hidden=1024, classes=5000):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, batch_first=True)
        self.proj = nn.Linear(hidden, classes)

    def forward(self, tokens):
        y, _ = self.lstm(self.embed(tokens))
        return self.proj(y[:, -1, :])


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.short is None else self.short(x)))


class ResNetCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.blocks = nn.Sequential(BasicBlock(32, 32, 1), BasicBlock(32, 64, 2), BasicBlock(64, 128, 2))
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        y = self.blocks(self.stem(x))
        return self.fc(torch.flatten(y.mean(dim=(2, 3)), 1))


def randomise_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def model_specs():
    """name -> (constructor, input shape, input dtype, description)."""
    specs = {}
    for h in (512, 1024, 1536):
        specs[f"lstm_h{h}"] = (lambda h=h: Rnn(nn.LSTM, h), [SEQ_RNN, 1, h], "float32",
                               f"LSTM hidden {h}, input {h}, seq {SEQ_RNN}, batch 1 (DeepBench)")
    for h in (512, 1024, 2816):
        specs[f"gru_h{h}"] = (lambda h=h: Rnn(nn.GRU, h), [SEQ_RNN, 1, h], "float32",
                              f"GRU hidden {h}, input {h}, seq {SEQ_RNN}, batch 1 (DeepBench)")
    specs["nlp_lstm"] = (NlpLstm, [1, 32], "int64",
                         "Embedding 20000x256, 2-layer LSTM hidden 1024, Linear 1024x5000 on the last "
                         "step; seq 32, batch 1")
    specs["resnet_cnn"] = (ResNetCnn, [1, 3, 64, 64], "float32",
                           "ResNet-style CNN: stem 3->32, basic blocks 32/64/128 (stride 1/2/2), "
                           "avg pool, Linear 128x10; 3x64x64")
    specs["transformer_enc"] = (
        lambda: nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.0, batch_first=True),
        [1, 64, 256], "float32", "Transformer encoder layer d 256, 4 heads, FF 1024, seq 64, batch 1")
    return specs


# ---------------------------------------------------------------------------------------- export

def make_input(shape, dtype, gen):
    if dtype == "int64":
        return torch.randint(0, 20000, shape, generator=gen, dtype=torch.int64)
    return torch.randn(shape, generator=gen)


def export_one(name, spec, out_dir):
    import onnx

    ctor, shape, dtype, desc = spec
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    model = ctor()
    with torch.no_grad():
        randomise_batchnorm(model, gen)
    model.eval()
    x = make_input(shape, dtype, gen)
    with torch.no_grad():
        ref = model(x).numpy().astype(np.float32)

    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    onnx_path = os.path.join(d, "model.onnx")
    # Exported with autograd on: under no_grad, PyTorch 1.13's TransformerEncoderLayer takes its
    # fused inference "fast path" (aten::_transformer_encoder_layer_fwd), which has no ONNX
    # symbolic; with grad on it runs (and exports) the standard ops. The TorchScript below is traced
    # under no_grad, so LibTorch does run the fused fast path, as PyTorch inference would.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size")
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(model, (x,), onnx_path, export_params=True, opset_version=OPSET,
                          do_constant_folding=True, input_names=["input"], output_names=["output"],
                          training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load(onnx_path)
    if drop_zero_rnn_initial_state(m):
        onnx.save(m, onnx_path)
        m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    bad = [n.op_type for n in m.graph.node if n.domain not in ("", "ai.onnx")]
    assert not bad, f"{name}: non-standard ops {bad}"

    pt_path = os.path.join(d, "model.pt")
    with torch.no_grad():
        traced = torch.jit.trace(model, (x,))
    traced.save(pt_path)
    with torch.no_grad():
        err = float(np.max(np.abs(torch.jit.load(pt_path)(x).numpy() - ref)))
    assert err < 1e-5, f"{name}: TorchScript vs eager max abs err {err}"

    np.save(os.path.join(d, "input.npy"), x.numpy())
    np.save(os.path.join(d, "expected.npy"), ref)
    n_params = sum(p.numel() for p in model.parameters())
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"  {name}: {n_params / 1e6:.2f} M params, ONNX ops {ops}", file=sys.stderr)
    entry = {
        "name": name, "description": desc, "bundled": False,
        "onnx": onnx_path, "torchscript": pt_path,
        "input": os.path.join(d, "input.npy"), "expected": os.path.join(d, "expected.npy"),
        "input_name": "input", "output_name": "output", "input_shape": shape, "input_dtype": dtype,
        "output_shape": list(ref.shape), "params": n_params, "param_bytes_fp32": 4 * n_params,
        "onnx_ops": ops, "seed": SEED,
    }
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(entry, f, indent=1)
    return entry


def existing_entry(name, out_dir):
    """The meta.json of an earlier export, if it is complete and from the same seed."""
    try:
        with open(os.path.join(out_dir, name, "meta.json")) as f:
            e = json.load(f)
    except (OSError, ValueError):
        return None
    ok = e.get("seed") == SEED and all(os.path.exists(e[k]) for k in ("onnx", "torchscript", "input", "expected"))
    return e if ok else None


def bundled_entry(name):
    import onnx

    onnx_path = os.path.join(REPO, "models", name, "1", "model.onnx")
    data = os.path.join(REPO, "tests", "data", "models", name)
    m = onnx.load(onnx_path)
    n_params = sum(int(np.prod(t.dims)) for t in m.graph.initializer if t.data_type == onnx.TensorProto.FLOAT)
    x = np.load(os.path.join(data, "input1.npy"))
    return {
        "name": name, "description": f"bundled Fashion-MNIST model (models/README.md)", "bundled": True,
        "onnx": onnx_path, "torchscript": os.path.join(REPO, "models", name, "1", "model.pt"),
        "input": os.path.join(data, "input1.npy"), "expected": os.path.join(data, "logits1.npy"),
        "input_name": m.graph.input[0].name, "output_name": m.graph.output[0].name,
        "input_shape": list(x.shape), "input_dtype": str(x.dtype), "output_shape": [1, 10],
        "params": n_params, "param_bytes_fp32": 4 * n_params,
        "onnx_ops": sorted({n.op_type for n in m.graph.node}),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "build", "peer-models"))
    ap.add_argument("--only", default="", help="comma list of generated models (default: all)")
    ap.add_argument("--force", action="store_true", help="re-export models that already exist")
    args = ap.parse_args()

    torch.set_num_threads(1)
    specs = model_specs()
    names = [n for n in args.only.split(",") if n] or list(specs)
    for n in names:
        if n not in specs:
            sys.exit(f"make_models: unknown model '{n}' (have {', '.join(specs)})")
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    entries = [bundled_entry(n) for n in BUNDLED]
    for n in specs:
        e = existing_entry(n, args.out)
        if n in names and (args.force or not e):
            print(f"exporting {n}", file=sys.stderr)
            e = export_one(n, specs[n], args.out)
        if e:
            entries.append(e)
    with open(manifest_path, "w") as f:
        json.dump({"torch": torch.__version__, "opset": OPSET, "models": entries}, f, indent=1)
    print(f"wrote {manifest_path} ({len(entries)} models)", file=sys.stderr)


if __name__ == "__main__":
    main()
