#!/usr/bin/env python3
"""Interleaved A/B of the RNN narrow kernels: row-major qgemm vs 16-row panels (qgemv_panels.h).

    /usr/bin/python3 bench/rnn_panels_ab.py [--build build] [--rounds 5] [--threads 1,2]
        [--models lstm_h1024,gru_h1024,nlp_lstm] [--formats mxint8,mxfp4_e2m1]

Runs `softdpu bench --activations native` on build/peer-models/<model>/model.onnx (written by
bench/peers/make_models.py), alternating within each round SOFTDPU_QGEMV_PANELS=0 (rows: the
kernels before panels), =steps (panels for the per-step products only) and unset (panels for the
input projection too), and prints per case the median over rounds of p50 and of min latency, and
the median of the per-round ratios rows p50 / panels p50.
"""
import argparse
import json
import os
import statistics
import subprocess


MODES = {"rows": "0", "steps": "steps", "panels": None}


def run(build, model, fmt, threads, mode, iterations):
    env = dict(os.environ)
    env.pop("SOFTDPU_QGEMV_PANELS", None)
    if MODES[mode]:
        env["SOFTDPU_QGEMV_PANELS"] = MODES[mode]
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
    res = {c: {m: [] for m in MODES} for c in cases}
    for _ in range(a.rounds):
        for c in cases:
            model = f"{a.build}/peer-models/{c[0]}/model.onnx"
            for mode in MODES:
                res[c][mode].append(run(a.build, model, c[1], c[2], mode, a.iterations))
    print("| model | format | threads | p50 ms rows / steps / panels | rows/steps | rows/panels |"
          " min ms rows / steps / panels |")
    print("|---|---|---|---|---|---|---|")
    for c in cases:
        r = res[c]
        med = lambda mode, i: statistics.median(x[i] for x in r[mode]) / 1000
        ratio = lambda mode: statistics.median(
            a[0] / b[0] for a, b in zip(r["rows"], r[mode]))
        p50 = " / ".join(f"{med(m, 0):.2f}" for m in MODES)
        mins = " / ".join(f"{med(m, 1):.2f}" for m in MODES)
        print(f"| {c[0]} | {c[1]}+native | {c[2]} | {p50} | {ratio('steps'):.2f}x | "
              f"{ratio('panels'):.2f}x | {mins} |")


if __name__ == "__main__":
    main()
