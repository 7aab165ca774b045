#!/usr/bin/env python3
"""Interleaved A/B of the RNN per-step kernels: row-major qgemm vs 16-row panels (qgemv_panels.h).

    /usr/bin/python3 bench/rnn_panels_ab.py [--build build] [--rounds 5] [--threads 1,2]
        [--models lstm_h1024,gru_h1024,nlp_lstm] [--formats mxint8,mxfp4_e2m1]

Runs `softdpu bench --activations native` on build/peer-models/<model>/model.onnx (written by
bench/peers/make_models.py), alternating SOFTDPU_QGEMV_PANELS=0 (rows) and the default (panels)
within each round, and prints per case the median over rounds of p50 and of min latency, and the
median of the per-round ratio rows p50 / panels p50.
"""
import argparse
import json
import os
import statistics
import subprocess


def run(build, model, fmt, threads, panels, iterations):
    env = dict(os.environ)
    if not panels:
        env["SOFTDPU_QGEMV_PANELS"] = "0"
    out = subprocess.run(
        [f"{build}/softdpu", "bench", model, "--precision", fmt, "--activations", "native",
         "--threads", str(threads), "--iterations", str(iterations), "--warmup", "5", "--json"],
        env=env, check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["p50_us"], r["min_us"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default="lstm_h1024,gru_h1024,nlp_lstm")
    ap.add_argument("--formats", default="mxint8,mxfp4_e2m1")
    ap.add_argument("--iterations", type=int, default=60)
    a = ap.parse_args()
    cases = [(m, f, int(t)) for m in a.models.split(",") for f in a.formats.split(",")
             for t in a.threads.split(",")]
    res = {c: {"rows": [], "panels": []} for c in cases}
    for _ in range(a.rounds):
        for c in cases:
            model = f"{a.build}/peer-models/{c[0]}/model.onnx"
            for mode in ("rows", "panels"):
                res[c][mode].append(run(a.build, model, c[1], c[2], mode == "panels",
                                        a.iterations))
    print("| model | format | threads | rows p50 ms | panels p50 ms | rows/panels (p50) |"
          " rows min ms | panels min ms |")
    print("|---|---|---|---|---|---|---|---|")
    for c in cases:
        rows, pan = res[c]["rows"], res[c]["panels"]
        med = lambda v, i: statistics.median(x[i] for x in v) / 1000
        ratio = statistics.median(r[0] / p[0] for r, p in zip(rows, pan))
        print(f"| {c[0]} | {c[1]}+native | {c[2]} | {med(rows, 0):.2f} | {med(pan, 0):.2f} | "
              f"{ratio:.2f}x | {med(rows, 1):.2f} | {med(pan, 1):.2f} |")


if __name__ == "__main__":
    main()
