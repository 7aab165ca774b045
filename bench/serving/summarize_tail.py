#!/usr/bin/python3
"""Medians over rounds of bench/serving/tail_ab.sh's lines: per pacing variant, end-to-end latency,
the generator's send lateness, answer-minus-send, and the server's request time (percentiles of the
/metrics histogram delta, linearly interpolated inside a bucket)."""
import json
import statistics
import sys
from collections import defaultdict


def buckets(text):
    out = {}
    for line in text.split("|"):
        if not line:
            continue
        le, count = line.split("=")
        out[float("inf") if le == "+Inf" else float(le)] = float(count)
    return out


def hist_percentile(before, after, p):
    b, a = buckets(before), buckets(after)
    edges = sorted(a)
    counts = [a[e] - b.get(e, 0) for e in edges]  # cumulative
    total = counts[-1]
    if total <= 0:
        return float("nan")
    target = p / 100 * total
    lo, prev = 0.0, 0.0
    for e, c in zip(edges, counts):
        if c >= target:
            if e == float("inf"):
                return lo * 1e6
            return (lo + (e - lo) * (target - prev) / max(c - prev, 1e-9)) * 1e6
        lo, prev = e, c
    return float("nan")


rows = defaultdict(list)
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    j = json.loads(line)
    r = j["run"]
    row = {"offered": r["offered_rps"], "req/s": r["throughput_rps"], "p50": r["p50_us"],
           "p99": r["p99_us"], "p99.9": r["p999_us"]}
    if j["variant"] != "peak":
        row["backlogged %"] = 100 * r["backlogged"] / max(r["ok"], 1)
        for k in ("send_late", "from_send"):
            for q in ("p50", "p99", "p999"):
                row[f"{k} {q}"] = r[f"{k}_{q}_us"]
        for q in (50, 99, 99.9):
            row[f"server p{q}"] = hist_percentile(j["hist_before"], j["hist_after"], q)
    rows[j["variant"]].append(row)

for variant, rs in rows.items():
    keys = rs[0].keys()
    med = {k: statistics.median(r[k] for r in rs) for k in keys}
    print(f"{variant} ({len(rs)} runs): " + ", ".join(f"{k} {v:.0f}" for k, v in med.items()))
