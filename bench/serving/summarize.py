"""Medians over rounds of bench/serving/run.sh output, as a markdown table.
Usage: bench/serving/run.sh 3 3 | tee out.txt; python3 bench/serving/summarize.py out.txt"""
import statistics
import sys
from collections import defaultdict


def main(path):
    rows = defaultdict(list)
    for line in open(path):
        f = line.split()
        if len(f) != 11 or not f[0].isdigit():
            continue
        rows[(f[1], f[2], int(f[3]))].append(f[5:9])
    print("| model | body | connections | rounds | req/s | p50 µs | p99 µs | p99.9 µs |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    order = {"in-process": 0, "bin": 1, "json": 2}
    for (m, enc, c), vals in sorted(rows.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], kv[0][2])):
        med = lambda i: statistics.median(float(v[i]) for v in vals if v[i] != "-") if any(v[i] != "-" for v in vals) else None
        fmt = lambda x: "-" if x is None else (f"{x:.0f}" if x >= 100 else f"{x:.1f}")
        print(f"| {m} | {enc} | {c if enc != 'in-process' else '-'} | {len(vals)} | {fmt(med(0))} | "
              f"{fmt(med(1))} | {fmt(med(2))} | {fmt(med(3))} |")


if __name__ == "__main__":
    main(sys.argv[1])
