"""Writes KServe v2 infer bodies for the serving load benchmark: for each bundled model, the first
test image (tests/data/models/<m>/input1.npy) as a JSON body and as a binary-extension body (JSON
header + raw FP32 bytes, binary output requested). Usage: make_bodies.py OUT_DIR"""
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(out):
    os.makedirs(out, exist_ok=True)
    for m in ("fashion_mlp", "fashion_lstm"):
        x = np.load(os.path.join(REPO, "tests", "data", "models", m, "input1.npy")).astype("<f4")
        body = {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                            "data": x.flatten().tolist()}]}
        with open(os.path.join(out, f"{m}.json.body"), "w") as f:
            json.dump(body, f)
        header = json.dumps({
            "inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                        "parameters": {"binary_data_size": x.nbytes}}],
            "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
        with open(os.path.join(out, f"{m}.bin.body"), "wb") as f:
            f.write(header + x.tobytes())
        with open(os.path.join(out, f"{m}.bin.hlen"), "w") as f:
            f.write(str(len(header)))


if __name__ == "__main__":
    main(sys.argv[1])
