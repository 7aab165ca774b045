"""Medians over the rounds of bench/serving/floor_ab.sh, as a markdown table.
Usage: bench/serving/floor_ab.sh 3 A B > ab.txt; python3 bench/serving/summarize_ab.py ab.txt"""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    rows = defaultdict(list)
    order = []
    for line in open(path):
        if not line.startswith("{"):
            continue
        j = json.loads(line)
        key = (j["model"], j["transport"], j["concurrency"], j["server"])
        if key not in rows:
            order.append(key)
        rows[key].append(j)
    print("| model | transport | connections | server | runs | req/s | p50 µs | p99 µs "
          "| server CPU µs/request |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for key in sorted(order, key=lambda k: (k[0], k[1], k[2], order.index(k))):
        runs = rows[key]
        med = lambda f: statistics.median(f(r) for r in runs)
        print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {len(runs)} | "
              f"{med(lambda r: r['run']['throughput_rps']):.0f} | "
              f"{med(lambda r: r['run']['p50_us']):.1f} | {med(lambda r: r['run']['p99_us']):.0f} | "
              f"{med(lambda r: r['server_cpu_us']):.1f} |")


if __name__ == "__main__":
    main(sys.argv[1])
