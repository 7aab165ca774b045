"""Export `fashion_lstm_stream`: the trained fashion_lstm with its recurrent state made explicit, for
the serving sequence extension (docs/serving.md, "Sequences").

    /usr/bin/python3 models/export_lstm_stream.py

Takes the weights of models/fashion_lstm/1/model.pt (TorchScript, as trained by train.py; nothing is
retrained) and exports models/fashion_lstm_stream/1/model.onnx with

    inputs   x [B, T, 28] (raw pixels / 255, T image rows), h0 [1, B, 128], c0 [1, B, 128]
    outputs  logits [B, 10] (Linear on the hidden state after the last of the T rows), hn, cn

and a config.json whose sequence_batching.state pairs (h0 -> hn, c0 -> cn) tell the server to carry
the state between the requests of one sequence. Feeding an image's 28 rows in chunks with the state
carried over therefore gives the same logits as fashion_lstm on the whole image. Checked here:
the ONNX graph re-evaluated in float64 numpy (train.py's evaluator) against PyTorch, chunked and
whole, and against fashion_lstm's stored reference logits.
"""

import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402  (MEAN, STD, OPSET, run_onnx_numpy)

REPO = train.REPO
NAME = "fashion_lstm_stream"
CHUNK = 7  # rows per request in the config: 4 requests make one 28-row image
HIDDEN = 128


class StreamLSTM(nn.Module):
    def __init__(self, state):
        super().__init__()
        self.rnn = nn.LSTM(input_size=28, hidden_size=HIDDEN, num_layers=1, batch_first=True)
        self.fc = nn.Linear(HIDDEN, 10)
        self.rnn.load_state_dict({k[len("rnn."):]: v for k, v in state.items() if k.startswith("rnn.")})
        self.fc.load_state_dict({k[len("fc."):]: v for k, v in state.items() if k.startswith("fc.")})

    def forward(self, x, h0, c0):  # x [B, T, 28], h0/c0 [1, B, 128]
        _, (hn, cn) = self.rnn((x - train.MEAN) / train.STD, (h0, c0))
        return self.fc(hn.squeeze(0)), hn, cn


def main():
    torch.manual_seed(0)
    src = torch.jit.load(os.path.join(REPO, "models", "fashion_lstm", "1", "model.pt"))
    model = StreamLSTM(dict(src.state_dict())).eval()

    data_dir = os.path.join(REPO, "tests", "data", "models", "fashion_lstm")
    x8 = torch.from_numpy(np.load(os.path.join(data_dir, "input.npy")))
    ref8 = np.load(os.path.join(data_dir, "logits.npy"))
    zeros = torch.zeros(1, x8.shape[0], HIDDEN)

    with torch.no_grad():
        whole, _, _ = model(x8, zeros, zeros)
        h, c = zeros, zeros
        for t in range(0, 28, CHUNK):
            chunked, h, c = model(x8[:, t:t + CHUNK], h, c)
        src_logits = src(x8).numpy()
    err_src = float(np.max(np.abs(whole.numpy() - src_logits)))
    err_chunk = float(np.max(np.abs(chunked.numpy() - whole.numpy())))
    err_ref = float(np.max(np.abs(whole.numpy() - ref8)))
    assert err_src < 1e-5 and err_chunk < 1e-5 and err_ref < 1e-4, (err_src, err_chunk, err_ref)
    print(f"torch: stream vs fashion_lstm.pt {err_src:.2e}, chunked vs whole {err_chunk:.2e}, "
          f"vs stored logits {err_ref:.2e}")

    out_dir = os.path.join(REPO, "models", NAME, "1")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(
        model, (x8[:, :CHUNK], zeros, zeros), path, export_params=True, opset_version=train.OPSET,
        do_constant_folding=True, input_names=["x", "h0", "c0"], output_names=["logits", "hn", "cn"],
        dynamic_axes={"x": {0: "batch", 1: "steps"}, "h0": {1: "batch"}, "c0": {1: "batch"},
                      "logits": {0: "batch"}, "hn": {1: "batch"}, "cn": {1: "batch"}},
        training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)

    # The ONNX graph itself (numpy float64), chunk by chunk, against PyTorch and the stored logits.
    for b in (1, 8):
        h = np.zeros((1, b, HIDDEN))
        c = np.zeros((1, b, HIDDEN))
        for t in range(0, 28, CHUNK):
            logits, h, c = train.run_onnx_numpy(m, {"x": x8[:b, t:t + CHUNK].numpy(), "h0": h, "c0": c})
        err = float(np.max(np.abs(logits - ref8[:b])))
        assert err < 1e-4, f"onnx chunked vs stored logits, batch {b}: {err}"
        print(f"onnx (numpy re-eval), 4 chunks of {CHUNK} rows, batch {b}: max abs err vs stored "
              f"fashion_lstm logits {err:.2e}")

    config = {
        "name": NAME,
        "platform": "onnx",
        "max_batch_size": 8,
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [CHUNK, 28]}],
        "outputs": [{"name": "logits", "datatype": "FP32", "shape": [10]}],
        "sequence_batching": {
            "idle_timeout_microseconds": 60000000,
            "max_sequences": 1024,
            "state": [{"input_name": "h0", "output_name": "hn", "shape": [1, 1, HIDDEN]},
                      {"input_name": "c0", "output_name": "cn", "shape": [1, 1, HIDDEN]}],
        },
    }
    with open(os.path.join(REPO, "models", NAME, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes) and config.json")


if __name__ == "__main__":
    main()
