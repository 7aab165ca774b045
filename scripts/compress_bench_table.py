#!/usr/bin/python3
"""Medians over several runs of bench/kernels/compress_bench.cc (JSON output files given on the
command line; each may hold --benchmark_repetitions runs), as the two Markdown tables of
docs/compression.md. Times are CPU times per call. A table whose benchmarks were filtered out of the
runs is left out."""

import json
import statistics
import sys
from collections import defaultdict

times = defaultdict(list)
counters = {}
for path in sys.argv[1:]:
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue  # the repetitions themselves are collected
        times[b["name"]].append(b["cpu_time"])
        counters[b["name"]] = b


def med(name):
    return statistics.median(times[name])




def circulant_table():
    print("| n | dense fp32 | mxint8 | circulant b=64 | circulant b=128 | fp32 / circ b=64 | fp32 / circ b=128 "
          "| weight bytes fp32 / circ b=128 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (256, 512, 1024, 2048, 4096, 8192):
        d, q = med(f"BM_CircDense/{n}"), med(f"BM_CircMxint8/{n}")
        c64, c128 = med(f"BM_Circulant/{n}/b64"), med(f"BM_Circulant/{n}/b128")
        wb = counters[f"BM_CircDense/{n}"]["weight_bytes"] / counters[f"BM_Circulant/{n}/b128"]["weight_bytes"]
        print(f"| {n} | {d:.1f} | {q:.1f} | {c64:.1f} | {c128:.1f} | {d / c64:.1f}x | {d / c128:.1f}x | {wb:.0f}x |")
    print()


def eie_table():
    # BM_EieSparse runs apply() as the engine does (the row-entry kernel on AVX-512);
    # BM_EieColumns the EIE column kernel; mxint8 only when its benchmarks were run.
    mx = any(n.startswith("BM_EieMxint8/") for n in times)
    print("| layer (K x N, weight / activation density) | dense fp32 | " + ("mxint8 | " if mx else "") +
          "EIE column kernel | row-entry kernel | fp32 / column | fp32 / row-entry | fp32 / row-entry, "
          "fastest of each | weight bytes fp32 / EIE | fp32 / (EIE + row entries) |")
    print("|---|---:|" + ("---:|" if mx else "") + "---:|---:|---:|---:|---:|---:|---:|")
    shapes = {"Alex-6": "9216 x 4096, 9% / 35%", "Alex-7": "4096 x 4096, 9% / 35%",
              "Alex-8": "4096 x 1000, 25% / 38%", "VGG-6": "25088 x 4096, 4% / 18%",
              "NT-LSTM": "1201 x 2400, 10% / 100%"}
    for l, desc in shapes.items():
        if f"BM_EieSparse/{l}" not in times or f"BM_EieColumns/{l}" not in times:
            continue
        d, c, s = med(f"BM_EieDense/{l}"), med(f"BM_EieColumns/{l}"), med(f"BM_EieSparse/{l}")
        best = min(times[f"BM_EieDense/{l}"]) / min(times[f"BM_EieSparse/{l}"])
        dense_b = counters[f"BM_EieDense/{l}"]["weight_bytes"]
        eie_b = counters[f"BM_EieSparse/{l}"]["weight_bytes"]
        rows_b = counters[f"BM_EieSparse/{l}"].get("row_entry_bytes", 0)
        q = f"{med(f'BM_EieMxint8/{l}'):.0f} | " if mx else ""
        print(f"| {l} ({desc}) | {d:.0f} | {q}{c:.0f} | {s:.0f} | {d / c:.1f}x | {d / s:.1f}x | "
              f"{best:.1f}x | {dense_b / eie_b:.0f}x | {dense_b / (eie_b + rows_b):.0f}x |")


def row_entry_ab_table():
    # BM_EieSparsePrev: the previous row-entry loop (SparseOptions::previous_row_entry_loop), in
    # the same runs; ns per non-zero = CPU time over the updates a call makes (active_nonzeros).
    print("| layer | dense fp32 | previous row-entry loop | row-entry kernel | previous / kernel | "
          "ns per non-zero, previous / kernel | fp32 / previous | fp32 / kernel |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for l in ("Alex-6", "Alex-7", "Alex-8", "VGG-6", "NT-LSTM"):
        if f"BM_EieSparsePrev/{l}" not in times or f"BM_EieSparse/{l}" not in times:
            continue
        p, s = med(f"BM_EieSparsePrev/{l}"), med(f"BM_EieSparse/{l}")
        nz = counters[f"BM_EieSparse/{l}"].get("active_nonzeros", 0)
        per = f"{p * 1e3 / nz:.3f} / {s * 1e3 / nz:.3f}" if nz else "-"
        dense = f"BM_EieDense/{l}" in times
        d = med(f"BM_EieDense/{l}") if dense else float("nan")
        print(f"| {l} | {d:.0f} | {p:.0f} | {s:.0f} | {p / s:.2f}x | {per} | "
              f"{d / p:.1f}x | {d / s:.1f}x |")


print(f"runs per benchmark: {max(len(t) for t in times.values())}; medians of CPU time per call (us)\n")
if "BM_Circulant/4096/b128" in times:
    circulant_table()
eie_table()
print()
row_entry_ab_table()
