#!/usr/bin/env python3
"""Batch-1 latency of the bundled models, measured the way docs/benchmarks.md quotes it.

The machine is noisy, so one run proves nothing: each round runs `softdpu bench --json` once per
model, rounds are interleaved (A B C D A B C D ...), and the table reports the median over rounds
of each statistic, plus the spread (min..max) of the per-round p50.

  scripts/bench_models.py [--rounds 7] [--iterations 2000] [--threads 1] [--batch 1] [--json OUT]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["fashion_mlp", "fashion_cnn", "fashion_lstm", "fashion_gru"]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "softdpu"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--extra", default="", help="extra flags passed to softdpu bench")
    ap.add_argument("--json", help="write all rounds to this file")
    args = ap.parse_args()

    models = args.models.split(",")
    runs = {m: [] for m in models}
    for r in range(args.rounds):
        for m in models:
            path = os.path.join(ROOT, "models", m, "1", "model.onnx")
            cmd = [args.binary, "bench", path, "--json", "--iterations", str(args.iterations),
                   "--threads", str(args.threads), "--batch", str(args.batch)] + args.extra.split()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            runs[m].append(json.loads(out))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    print(f"CPU: {cpu_model()}; batch {args.batch}, threads {args.threads}, "
          f"{args.rounds} interleaved rounds x {args.iterations} iterations; medians over rounds\n")
    print("| model | p50 µs | p90 µs | p99 µs | p50 spread (min..max) | inferences/s | peak RSS MiB | weights MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for m in models:
        rs = runs[m]
        med = lambda k: statistics.median(x[k] for x in rs)
        p50s = [x["p50_us"] for x in rs]
        print(f"| {m} | {med('p50_us'):.1f} | {med('p90_us'):.1f} | {med('p99_us'):.1f} | "
              f"{min(p50s):.1f}..{max(p50s):.1f} | {med('throughput_per_s'):.0f} | "
              f"{med('peak_rss_bytes') / 2**20:.1f} | {rs[0]['weight_bytes'] / 2**20:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu_model(), "args": vars(args), "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
