#!/usr/bin/python3
"""Side-by-side batch-1 benchmark of softdpu, ONNX Runtime and LibTorch (issue #6).

    /usr/bin/python3 bench/peers/run.py [--rounds 5] [--threads 1,2] [--models a,b] [--out DIR]
    /usr/bin/python3 bench/peers/run.py --check     # harness self-test: engines agree on a tiny model

Reads build/peer-models/manifest.json (bench/peers/make_models.py writes it). For every model and
thread count it runs the engines as separate processes, interleaved round by round:

    warm-up round (untimed: checks outputs, sizes the iteration count), then
    round 1: softdpu, ORT, LibTorch[, softdpu mxint8, softdpu mxfp8_e4m3]   round 2: the same ...

Each process loads the model, runs its own warm-up, then the same number of timed iterations, and
prints JSON (p50/p90/p99, peak RSS). The report takes, per engine, the median over rounds of each
statistic, and every ratio is computed pair by pair within a round (ORT p50 / softdpu p50 of the
same round) before its median is taken. Narrow precisions run on the RNN models only.

Outputs in --out (default build/peers-results/): results.json (every run, machine, versions),
table.md (the markdown for docs/benchmarks.md) and speedup.svg (the plot).

Outputs are checked once per model against PyTorch's (expected.npy): FP32 engines must agree within
1e-4 * max(1, max|expected|); the narrow formats' error is reported, not checked.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SKIP = 77  # CTest SKIP_RETURN_CODE

RNN_PREFIXES = ("lstm_", "gru_", "nlp_lstm")
# FORMAT+native adds --activations native (docs/precision.md).
NARROW = ["mxint8", "mxint8+native", "mxfp8_e4m3", "mxfp4_e2m1", "mxfp4_e2m1+native"]


# ------------------------------------------------------------------------------- machine facts

def cpu_info():
    model, flags = "unknown", []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "unknown":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1].split()
    except OSError:
        pass
    simd = [f for f in flags if f.startswith(("avx", "fma", "f16c", "amx", "sse4"))]
    caches = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    for idx in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            rd = lambda k: open(os.path.join(base, idx, k)).read().strip()
            caches[f"L{rd('level')} {rd('type')}"] = rd("size")
        except OSError:
            pass
    return {"model": model, "simd_flags": simd, "flags": flags, "logical_cpus": os.cpu_count(),
            "caches": caches}


def git_rev():
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ---------------------------------------------------------------------------------- the engines

class Engines:
    def __init__(self, args):
        self.softdpu = os.path.join(args.build, "softdpu")
        self.libtorch = os.path.join(args.build, "softdpu_peer_libtorch")
        self.node = args.node
        self.ort_js = os.path.join(HERE, "ort", "bench.js")
        self.omp_wait_policy = args.libtorch_omp_wait_policy

    def missing(self):
        """What is not installed/built, as readable reasons (empty when all three can run)."""
        why = []
        if not os.access(self.softdpu, os.X_OK):
            why.append(f"{self.softdpu} not built (make build)")
        if not os.access(self.libtorch, os.X_OK):
            why.append(f"{self.libtorch} not built (needs libtorch-dev: scripts/install-peer-deps, then make build)")
        if not os.path.exists(os.path.join(HERE, "ort", "node_modules", "onnxruntime-node", "package.json")):
            why.append("onnxruntime-node not installed in bench/peers/ort (scripts/install-peer-deps)")
        try:
            subprocess.run([self.node, "--version"], capture_output=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            why.append(f"node ('{self.node}') not runnable (scripts/install-peer-deps)")
        return why

    def bench_cmd(self, engine, m, threads, iterations, warmup, precision="fp32"):
        inp = f"{m['input_name']}={m['input']}"
        common = ["--threads", str(threads), "--iterations", str(iterations), "--warmup", str(warmup)]
        if engine == "softdpu":
            cmd = [self.softdpu, "bench", m["onnx"], "--json", "--input", inp] + common
            return cmd + precision_flags(precision)
        if engine == "onnxruntime":
            return [self.node, self.ort_js, m["onnx"], "--input", inp] + common
        if engine == "libtorch":
            return [self.libtorch, m["torchscript"], "--input", m["input"]] + common
        raise ValueError(engine)

    def env(self, engine, threads):
        e = dict(os.environ)
        if engine == "libtorch":
            # LibTorch's OpenMP pool and OpenBLAS's own pthread pool both follow these.
            e["OMP_NUM_THREADS"] = str(threads)
            e["OPENBLAS_NUM_THREADS"] = str(threads)
            if self.omp_wait_policy:
                e["OMP_WAIT_POLICY"] = self.omp_wait_policy
        return e

    def output(self, engine, m, threads, out_npy, precision="fp32"):
        """Runs one inference and writes the (first) output to out_npy."""
        if engine == "softdpu":
            d = tempfile.mkdtemp(prefix="softdpu-peers-")
            cmd = [self.softdpu, "run", m["onnx"], "--input", f"{m['input_name']}={m['input']}",
                   "--output-dir", d, "--threads", str(threads)]
            cmd += precision_flags(precision)
            run(cmd, self.env(engine, threads))
            os.replace(os.path.join(d, m["output_name"] + ".npy"), out_npy)
            os.rmdir(d)
        else:
            cmd = self.bench_cmd(engine, m, threads, 1, 0) + ["--output-npy", out_npy]
            run(cmd, self.env(engine, threads))


def precision_flags(precision):
    """softdpu flags for a variant: FORMAT, or FORMAT+native (--activations native)."""
    if precision == "fp32":
        return []
    fmt, _, acts = precision.partition("+")
    return ["--precision", fmt] + (["--activations", acts] if acts else [])


def run(cmd, env, timeout=1800):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr.strip()[-2000:]}")
    return p.stdout


def run_json(cmd, env):
    return json.loads(run(cmd, env))


# ------------------------------------------------------------------------------------- checking

def agreement(engines, m, threads, variants, workdir):
    """Max abs error of each variant's output against PyTorch's expected output."""
    import numpy as np

    ref = np.load(m["expected"]).astype(np.float32)
    scale = max(1.0, float(np.max(np.abs(ref))))
    res = {}
    for engine, precision in variants:
        path = os.path.join(workdir, f"{m['name']}-{engine}-{precision}-t{threads}.npy")
        engines.output(engine, m, threads, path, precision)
        got = np.load(path).astype(np.float32)
        if got.size != ref.size:
            raise RuntimeError(f"{m['name']}: {engine} output has {got.size} elements, PyTorch's has {ref.size}")
        err = float(np.max(np.abs(got.reshape(ref.shape) - ref)))
        res[label(engine, precision)] = {"max_abs_err": err, "max_abs_ref": float(np.max(np.abs(ref))),
                                         "ok": precision != "fp32" or err <= 1e-4 * scale, "output": path}
    return res


def label(engine, precision):
    return engine if precision == "fp32" else f"{engine}-{precision}"


# ------------------------------------------------------------------------------------ measuring

def variants_for(m, args):
    v = [("softdpu", "fp32"), ("onnxruntime", "fp32"), ("libtorch", "fp32")]
    if args.narrow and m["name"].startswith(RNN_PREFIXES):
        v += [("softdpu", p) for p in args.narrow.split(",")]
    return v


def measure(engines, m, threads, args, workdir):
    variants = variants_for(m, args)
    entry = {"model": m["name"], "threads": threads, "variants": [label(*v) for v in variants]}
    entry["agreement"] = agreement(engines, m, threads, variants, workdir)
    # Warm-up round: short untimed runs, to size the timed iteration count to the time budget.
    est = 0.0
    for engine, precision in variants:
        j = run_json(engines.bench_cmd(engine, m, threads, 3, 1, precision), engines.env(engine, threads))
        est = max(est, j["p50_us"])
    iterations = int(min(args.max_iterations, max(args.min_iterations, args.budget_s * 1e6 / max(est, 1.0))))
    warmup = int(min(50, max(2, iterations // 5)))
    entry.update(iterations=iterations, warmup=warmup, rounds=[])
    for r in range(args.rounds):
        rnd = {}
        for engine, precision in variants:
            rnd[label(engine, precision)] = run_json(
                engines.bench_cmd(engine, m, threads, iterations, warmup, precision), engines.env(engine, threads))
        entry["rounds"].append(rnd)
        print(f"  {m['name']} t{threads} round {r + 1}/{args.rounds}: " +
              ", ".join(f"{k} {v['p50_us']:.0f}us" for k, v in rnd.items()), file=sys.stderr)
    summarise(entry)
    return entry


def summarise(entry):
    med = lambda xs: statistics.median(xs) if xs else None
    s = {}
    for v in entry["variants"]:
        runs = [r[v] for r in entry["rounds"]]
        s[v] = {k: med([x[k] for x in runs]) for k in ("p50_us", "p90_us", "p99_us", "peak_rss_bytes")}
        s[v]["p50_spread_us"] = [min(x["p50_us"] for x in runs), max(x["p50_us"] for x in runs)]
        for k in ("achieved_gb_per_s", "bandwidth_fraction", "level_gb_per_s"):
            vals = [x[k] for x in runs if isinstance(x.get(k), (int, float))]
            if vals:
                s[v][k] = med(vals)
        for k in ("weight_level", "weight_bytes_per_inference", "weight_bytes", "blas", "engine_version"):
            if k in runs[0]:
                s[v][k] = runs[0][k]
    # Ratios pair by pair within each round, then the median: peer p50 / softdpu-variant p50.
    ratios = {}
    for v in entry["variants"]:
        for peer in ("onnxruntime", "libtorch"):
            if v == peer or v in ("onnxruntime", "libtorch"):
                continue
            ratios[f"{peer}/{v}"] = med([r[peer]["p50_us"] / r[v]["p50_us"] for r in entry["rounds"]])
    entry["summary"], entry["ratios"] = s, ratios


# -------------------------------------------------------------------------------------- reports

def fmt_us(us):
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def markdown(results):
    lines = []
    lines.append(f"Machine: {results['machine']['cpu']['model']}, {results['machine']['cpu']['logical_cpus']} "
                 f"logical CPUs; {', '.join(results['machine']['cpu']['simd_flags'])}. Load average "
                 f"{results['machine']['loadavg_start']:.1f} at start, {results['machine']['loadavg_end']:.1f} at end. "
                 f"ONNX Runtime {results['versions'].get('onnxruntime', '?')} (npm onnxruntime-node, "
                 f"{results['versions'].get('node', '?')}), LibTorch {results['versions'].get('libtorch', '?')} "
                 f"(Debian) with BLAS: {results['versions'].get('blas', '?')}; softdpu {results['versions']['softdpu']}.")
    lines.append("")
    lines.append("| model | threads | softdpu p50 | ORT p50 | LibTorch p50 | ORT / softdpu | LibTorch / softdpu "
                 "| peak RSS MiB softdpu / ORT / LibTorch | weights read per inference | softdpu GB/s (fraction, level) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for e in results["entries"]:
        s, r = e["summary"], e["ratios"]
        sd = s["softdpu"]
        bw = "–"
        if sd.get("achieved_gb_per_s") is not None:
            frac = f"{100 * sd['bandwidth_fraction']:.0f}% of " if sd.get("bandwidth_fraction") is not None else ""
            bw = f"{sd['achieved_gb_per_s']:.1f} ({frac}{sd.get('weight_level', '?')})"
        lines.append(
            f"| {e['model']} | {e['threads']} | {fmt_us(sd['p50_us'])} | {fmt_us(s['onnxruntime']['p50_us'])} | "
            f"{fmt_us(s['libtorch']['p50_us'])} | **{r['onnxruntime/softdpu']:.2f}×** | {r['libtorch/softdpu']:.2f}× | "
            f"{sd['peak_rss_bytes'] / 2**20:.0f} / {s['onnxruntime']['peak_rss_bytes'] / 2**20:.0f} / "
            f"{s['libtorch']['peak_rss_bytes'] / 2**20:.0f} | "
            f"{sd.get('weight_bytes_per_inference', 0) / 2**20:.1f} MiB | {bw} |")
    narrow = [e for e in results["entries"] if any("-" in v for v in e["variants"])]
    if narrow:
        lines.append("")
        lines.append("Narrow weight formats (softdpu) against ONNX Runtime FP32, same rounds:")
        lines.append("")
        lines.append("| model | threads | format | softdpu p50 | ORT FP32 p50 | ORT / softdpu | max abs err vs PyTorch "
                     "| GB/s (fraction, level) |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for e in narrow:
            for v in e["variants"]:
                if not v.startswith("softdpu-"):
                    continue
                sv = e["summary"][v]
                bw = "–"
                if sv.get("achieved_gb_per_s") is not None:
                    frac = f"{100 * sv['bandwidth_fraction']:.0f}% of " if sv.get("bandwidth_fraction") is not None else ""
                    bw = f"{sv['achieved_gb_per_s']:.1f} ({frac}{sv.get('weight_level', '?')})"
                err = e["agreement"].get(v, {}).get("max_abs_err")
                lines.append(f"| {e['model']} | {e['threads']} | {v.split('-', 1)[1]} | {fmt_us(sv['p50_us'])} | "
                             f"{fmt_us(e['summary']['onnxruntime']['p50_us'])} | **{e['ratios']['onnxruntime/' + v]:.2f}×** | "
                             f"{err:.1e} | {bw} |")
    return "\n".join(lines) + "\n"


def svg(results):
    """Horizontal bars: ORT p50 / engine p50 (> 1: faster than ONNX Runtime), log scale."""
    import math

    rows = []
    for e in results["entries"]:
        for v in e["variants"]:
            if v == "onnxruntime":
                continue
            rows.append((f"{e['model']} t{e['threads']}", v,
                         e["summary"]["onnxruntime"]["p50_us"] / e["summary"][v]["p50_us"]))
    colors = {"softdpu": "#1f77b4", "libtorch": "#ff7f0e", "softdpu-mxint8": "#2ca02c",
              "softdpu-mxfp8_e4m3": "#9467bd", "softdpu-mxfp4_e2m1": "#d62728"}
    bar_h, gap, left, width = 9, 8, 190, 520
    lo, hi = 0.1, 10.0
    for _, _, x in rows:
        lo, hi = min(lo, x), max(hi, x)
    lo, hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
    X = lambda x: left + width * (math.log10(x) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    groups = []
    for name, v, x in rows:
        if not groups or groups[-1][0] != name:
            groups.append((name, []))
        groups[-1][1].append((v, x))
    height = 40 + sum(len(g[1]) * bar_h + gap for g in groups) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 160}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="16" font-size="13">Batch-1 speed relative to ONNX Runtime FP32 '
           f'(ORT p50 / engine p50; right of 1 = faster)</text>']
    y = 30
    for name, bars in groups:
        out.append(f'<text x="{left - 6}" y="{y + len(bars) * bar_h / 2 + 4}" text-anchor="end">{name}</text>')
        for v, x in bars:
            x0, x1 = X(min(1.0, x)), X(max(1.0, x))
            out.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{bar_h - 1}" '
                       f'fill="{colors.get(v, "#888")}"><title>{name} {v}: {x:.2f}x</title></rect>')
            out.append(f'<text x="{x1 + 3:.1f}" y="{y + bar_h - 1}" font-size="8">{x:.2f}</text>')
            y += bar_h
        y += gap
    decade = lo
    while decade <= hi * 1.0001:
        for mult in (1, 2, 5):
            t = decade * mult
            if lo <= t <= hi:
                out.append(f'<line x1="{X(t):.1f}" y1="26" x2="{X(t):.1f}" y2="{y}" stroke="#ccc" '
                           f'stroke-width="{1.5 if t == 1 else 0.5}"/>')
                out.append(f'<text x="{X(t):.1f}" y="{y + 12}" text-anchor="middle">{t:g}</text>')
        decade *= 10
    ly = y + 28
    for i, (v, c) in enumerate(colors.items()):
        out.append(f'<rect x="{left + i * 130}" y="{ly - 9}" width="10" height="10" fill="{c}"/>'
                   f'<text x="{left + i * 130 + 14}" y="{ly}">{v}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------- main

def load_manifest(path):
    if not os.path.exists(path):
        sys.exit(f"run.py: {path} not found: run /usr/bin/python3 bench/peers/make_models.py first")
    with open(path) as f:
        return json.load(f)


def check(engines, args):
    """Harness self-test: all three engines on the tiny bundled models; their outputs must agree
    with PyTorch's reference (tests/data/models) and so with each other. Checks the harness, not speed."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        print(f"SKIP: numpy is missing for {sys.executable} (scripts/install-peer-deps)")
        return SKIP
    why = engines.missing()
    if why:
        print("SKIP: the peer engines are not installed:\n  " + "\n  ".join(why))
        return SKIP
    sys.path.insert(0, HERE)
    from make_models import bundled_entry  # reads only ONNX metadata; no torch needed
    bad = 0
    with tempfile.TemporaryDirectory(prefix="softdpu-peers-check-") as work:
        for name in ("fashion_mlp", "fashion_lstm"):
            m = bundled_entry(name)
            for threads in (1, 2):
                res = agreement(engines, m, threads, [("softdpu", "fp32"), ("onnxruntime", "fp32"),
                                                      ("libtorch", "fp32")], work)
                # The timed path too: one short run each, JSON with the fields the report reads.
                for engine in ("softdpu", "onnxruntime", "libtorch"):
                    j = run_json(engines.bench_cmd(engine, m, threads, 5, 1), engines.env(engine, threads))
                    for k in ("p50_us", "p90_us", "p99_us", "peak_rss_bytes"):
                        if not isinstance(j.get(k), (int, float)) or j[k] <= 0:
                            print(f"FAIL {name} t{threads} {engine}: bench JSON field {k} = {j.get(k)!r}")
                            bad += 1
                    if engine == "libtorch":
                        print(f"  libtorch BLAS: {j.get('blas')} {j.get('blas_libraries')}")
                import numpy as np
                outs = {v: np.load(a["output"]).ravel() for v, a in res.items()}
                scale = max(1.0, max(float(np.max(np.abs(o))) for o in outs.values()))
                for a_name in outs:
                    for b_name in outs:
                        if a_name < b_name:
                            d = float(np.max(np.abs(outs[a_name] - outs[b_name])))
                            ok = d <= 1e-4 * scale
                            bad += not ok
                            print(f"{'ok' if ok else 'FAIL'} {name} t{threads} {a_name} vs {b_name}: max abs diff {d:.2e}")
                for v, a in res.items():
                    status = "ok" if a["ok"] else "FAIL"
                    bad += not a["ok"]
                    print(f"{status} {name} t{threads} {v}: max abs err vs PyTorch {a['max_abs_err']:.2e}")
    print("peers check: " + ("all engines agree" if not bad else f"{bad} failures"))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--manifest", default=None, help="default BUILD/peer-models/manifest.json")
    ap.add_argument("--models", default="", help="comma list (default: every model in the manifest)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--budget-s", type=float, default=1.0, help="timed seconds per engine run (sizes iterations)")
    ap.add_argument("--min-iterations", type=int, default=5)
    ap.add_argument("--max-iterations", type=int, default=2000)
    ap.add_argument("--narrow", default=",".join(NARROW), help="softdpu precisions also run on RNN models ('' = none)")
    ap.add_argument("--libtorch-omp-wait-policy", default="", choices=["", "ACTIVE", "PASSIVE"],
                    help="OMP_WAIT_POLICY for LibTorch (PASSIVE avoids libgomp's spin-wait stalls when "
                         "the machine is oversubscribed; default: libgomp's own)")
    ap.add_argument("--out", default=None, help="default BUILD/peers-results")
    ap.add_argument("--check", action="store_true", help="harness self-test (CTest label peers)")
    args = ap.parse_args()

    engines = Engines(args)
    if args.check:
        return check(engines, args)
    why = engines.missing()
    if why:
        sys.exit("run.py: cannot run the peers:\n  " + "\n  ".join(why))
    manifest = load_manifest(args.manifest or os.path.join(args.build, "peer-models", "manifest.json"))
    models = manifest["models"]
    if args.models:
        want = args.models.split(",")
        unknown = [w for w in want if w not in {m["name"] for m in models}]
        if unknown:
            sys.exit(f"run.py: unknown model(s) {unknown}; the manifest has {[m['name'] for m in models]}")
        models = [m for m in models if m["name"] in want]
    out_dir = args.out or os.path.join(args.build, "peers-results")
    os.makedirs(out_dir, exist_ok=True)

    results = {
        "date": datetime.datetime.utcnow().isoformat(timespec="seconds") + "Z",
        "command": " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:]),
        "machine": {"cpu": cpu_info(), "kernel": platform.release(), "loadavg_start": os.getloadavg()[0]},
        "versions": {"softdpu": git_rev()},
        "args": vars(args), "entries": [],
    }
    with tempfile.TemporaryDirectory(prefix="softdpu-peers-") as work:
        for m in models:
            for threads in [int(t) for t in args.threads.split(",")]:
                e = measure(engines, m, threads, args, work)
                results["entries"].append(e)
                bad = [v for v, a in e["agreement"].items() if not a["ok"]]
                if bad:
                    print(f"WARNING {m['name']} t{threads}: {bad} disagree with PyTorch: "
                          f"{ {v: e['agreement'][v] for v in bad} }", file=sys.stderr)
                first = e["rounds"][0]
                results["versions"].update(onnxruntime=first["onnxruntime"].get("engine_version"),
                                           node=first["onnxruntime"].get("runtime"),
                                           libtorch=first["libtorch"].get("engine_version"),
                                           blas=first["libtorch"].get("blas"),
                                           blas_libraries=first["libtorch"].get("blas_libraries"))
                with open(os.path.join(out_dir, "results.json"), "w") as f:  # partial results survive
                    json.dump(results, f, indent=1)
    results["machine"]["loadavg_end"] = os.getloadavg()[0]
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    md = markdown(results)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(md)
    with open(os.path.join(out_dir, "speedup.svg"), "w") as f:
        f.write(svg(results))
    print(md)
    print(f"wrote {out_dir}/results.json, table.md, speedup.svg", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
