"""Medians over the rounds of bench/serving/run.sh, as the markdown table of docs/serving.md.
Usage: bench/serving/run.sh 3 3 > runs.txt; python3 bench/serving/summarize.py runs.txt"""
import json
import statistics
import sys
from collections import defaultdict

ORDER = {"in-process": 0, "bin": 1, "grpc": 2, "json": 3}


def main(path):
    rows = defaultdict(list)
    for line in open(path):
        if line.startswith("{"):
            j = json.loads(line)
            run = j.get("run", j)
            rows[(run["model"], ORDER[j["transport"]], j["transport"], j["load"],
                  j.get("server", ""))].append(run)
    print("| model | transport | load | server | runs | offered req/s | req/s | p50 µs | p99 µs "
          "| p99.9 µs | send late p50 µs | send late p99 µs |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")

    def med(runs, k):
        vals = [r.get(k) for r in runs]
        return None if None in vals else statistics.median(vals)

    fmt = lambda x: "-" if not x else (f"{x:.0f}" if x >= 100 else f"{x:.1f}")
    for key in sorted(rows):
        runs = rows[key]
        print(f"| {key[0]} | {key[2]} | {key[3]} | {key[4]} | {len(runs)} | {fmt(med(runs, 'offered_rps'))} | "
              f"{fmt(med(runs, 'throughput_rps'))} | {fmt(med(runs, 'p50_us'))} | "
              f"{fmt(med(runs, 'p99_us'))} | {fmt(med(runs, 'p999_us'))} | "
              f"{fmt(med(runs, 'send_late_p50_us'))} | {fmt(med(runs, 'send_late_p99_us'))} |")


if __name__ == "__main__":
    main(sys.argv[1])
