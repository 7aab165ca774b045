#!/usr/bin/env node
// ONNX Runtime peer for softdpu's batch-1 benchmarks: loads one ONNX model with graph optimisations
// on, runs warm-up then timed iterations on the given .npy inputs, prints one JSON object (same
// fields as `softdpu bench --json` and the LibTorch peer).
//
//   node bench/peers/ort/bench.js MODEL.onnx --input NAME=FILE.npy [--threads 1] [--iterations 1000]
//        [--warmup 50] [--output-npy OUT.npy] [--api sync|async] [--latencies]
//
// --api sync (default) times the native binding's synchronous run() directly: ORT's own Run plus
// the N-API conversion of inputs and outputs, which is the fairest figure for ORT's engine.
// --api async times the public `await session.run(feeds)`, which adds a setImmediate hop and the
// JS Tensor wrapping that a Node application pays on top (tens of microseconds).
'use strict';
const path = require('path');
const ort = require('onnxruntime-node');
const {binding, initOrt} = require('onnxruntime-node/dist/binding');
const {readNpy, writeNpy} = require('./npy');

function parseArgs(argv) {
  const a = {threads: 1, iterations: 1000, warmup: 50, inputs: [], api: 'sync', latencies: false};
  const need = (i) => {
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  const positive = (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`${name}: expected an integer >= ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; ++i) {
    const k = argv[i];
    if (k === '--threads') a.threads = positive(k, need(i++), 1);
    else if (k === '--iterations') a.iterations = positive(k, need(i++), 1);
    else if (k === '--warmup') a.warmup = positive(k, need(i++), 0);
    else if (k === '--input' || k === '-i') a.inputs.push(need(i++));
    else if (k === '--output-npy') a.outputNpy = need(i++);
    else if (k === '--api') a.api = need(i++);
    else if (k === '--latencies') a.latencies = true;
    else if (k.startsWith('-')) usage(`unknown flag ${k}`);
    else if (!a.model) a.model = k;
    else usage(`unexpected argument ${k}`);
  }
  if (!a.model) usage('MODEL.onnx is required');
  if (a.api !== 'sync' && a.api !== 'async') usage(`--api: expected sync or async, got '${a.api}'`);
  return a;
}

function usage(msg) {
  process.stderr.write(`error: ${msg}\nusage: bench.js MODEL.onnx --input NAME=FILE.npy [--threads N] ` +
                       `[--iterations N] [--warmup N] [--output-npy OUT.npy] [--api sync|async] [--latencies]\n`);
  process.exit(2);
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)));
  return sorted[i];
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
  };
  const feeds = {};
  for (const spec of a.inputs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) usage(`--input: expected NAME=FILE.npy, got '${spec}'`);
    const arr = readNpy(spec.slice(eq + 1));
    feeds[spec.slice(0, eq)] = new ort.Tensor(arr.type, arr.data, arr.dims);
  }

  const t0 = process.hrtime.bigint();
  let runOnce;
  let outputNames;
  if (a.api === 'sync') {
    initOrt();
    const s = new binding.InferenceSession();
    s.loadModel(path.resolve(a.model), options);
    outputNames = s.outputMetadata.map((m) => m.name);
    const fetches = Object.fromEntries(outputNames.map((n) => [n, null]));
    runOnce = () => s.run(feeds, fetches, {});
  } else {
    const s = await ort.InferenceSession.create(path.resolve(a.model), options);
    outputNames = s.outputNames;
    runOnce = () => s.run(feeds);
  }
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;

  let out;
  for (let i = 0; i < a.warmup; ++i) out = await runOnce();
  const us = new Float64Array(a.iterations);
  const start = process.hrtime.bigint();
  for (let i = 0; i < a.iterations; ++i) {
    const b = process.hrtime.bigint();
    out = await runOnce();
    us[i] = Number(process.hrtime.bigint() - b) / 1e3;
  }
  const totalS = Number(process.hrtime.bigint() - start) / 1e9;
  const sorted = Float64Array.from(us).sort();
  const mean = us.reduce((x, y) => x + y, 0) / Math.max(us.length, 1);

  if (a.outputNpy) {
    const o = out[outputNames[0]];
    writeNpy(a.outputNpy, o.data, o.dims);
  }
  const j = {
    engine: 'onnxruntime',
    engine_version: ort.env.versions.node,
    runtime: `node ${process.version}`,
    api: a.api,
    model: a.model,
    batch: 1,
    threads: a.threads,
    iterations: a.iterations,
    warmup: a.warmup,
    p50_us: percentile(sorted, 50),
    p90_us: percentile(sorted, 90),
    p99_us: percentile(sorted, 99),
    min_us: sorted[0],
    max_us: sorted[sorted.length - 1],
    mean_us: mean,
    throughput_per_s: totalS > 0 ? a.iterations / totalS : 0,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    load_ms: loadMs,
    session_options: options,
  };
  if (a.latencies) j.latencies_us = Array.from(us);
  process.stdout.write(JSON.stringify(j, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`error: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
