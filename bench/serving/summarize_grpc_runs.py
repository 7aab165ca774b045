#!/usr/bin/env python3
"""Medians per case of the JSON lines printed by grpc_transport_bench.sh, as a Markdown table.

usage: bench/serving/summarize_grpc_runs.py runs.txt
Each input line is "<case> <server> <softdpu_grpc_load --json output>"; other lines are skipped.
"""
import json
import statistics
import sys


def main(path):
    cases = {}
    for line in open(path):
        parts = line.split(" ", 2)
        if len(parts) < 3 or not parts[2].startswith("{"):
            continue
        cases.setdefault((parts[0], parts[1]), []).append(json.loads(parts[2]))
    print("| case | server | runs | p50 µs | p99 µs | p99.9 µs | throughput req/s | p50 range |")
    print("|---|---|---|---|---|---|---|---|")
    for (case, server), runs in cases.items():
        med = lambda key: statistics.median(r[key] for r in runs)
        p50s = [r["p50_us"] for r in runs]
        print(f"| {case} | {server} | {len(runs)} | {med('p50_us'):.0f} | {med('p99_us'):.0f} | "
              f"{med('p999_us'):.0f} | {med('throughput_rps'):.0f} | {min(p50s):.0f}..{max(p50s):.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
