#!/bin/sh
# Serving load benchmark (docs/serving.md, "Load benchmark"): `softdpu serve` on loopback with the
# bundled fashion_mlp and fashion_lstm, batch 1, over REST JSON, REST binary and gRPC, against
# `softdpu bench` in-process on the same core. On a 2-core machine the client would compete with
# the server for the cores, so each gets its own: the server (IO_THREADS HTTP and gRPC threads,
# the batch-1 fast path running the model on them, the models' worker threads) and the in-process
# bench on CPU $SERVER_CPU, the load generators on CPU $CLIENT_CPU.
# Per round, model and transport: closed loop at 1 connection (latency at low load), closed loop
# at 8 (the maximum throughput), then open loop at a quarter and at half of that maximum.
#   bench/serving/run.sh [ROUNDS] [SECONDS] > runs.txt; bench/serving/summarize.py runs.txt
# (from the repository root, after `ninja -C build softdpu softdpu_http_load softdpu_grpc_load`)
# SOFTDPU (server binary), MODELS_DIR (where fashion_mlp/ and fashion_lstm/ are), IO_THREADS
# (--http-threads and --grpc-threads, default 1: the server has one CPU; 2 trades p99 for peak, docs/serving.md) and LABEL (added to every line) let one driver
# alternate two servers: bench/serving/run_ab.sh. MODELS (default "fashion_mlp fashion_lstm"),
# TRANSPORTS (default "bin grpc json") and GEN_ARGS (extra load-generator options, e.g. the
# pacing: bench/serving/pacing_ab.sh) narrow or vary a run. RT_PRIORITY=N (default 0 = off) runs
# the server with --realtime-priority N and the in-process bench and the load generators at
# SCHED_FIFO N too (docs/serving.md, "Real-time priority"; needs root or CAP_SYS_NICE);
# RT_CLIENT=0 leaves the load generators at the default policy (gRPC's client threads at
# SCHED_FIFO starve each other on one CPU: see the docs).
set -eu
ROUNDS=${1:-3}
SECS=${2:-3}
BUILD=${BUILD:-build}
PORT=${PORT:-18100}
GPORT=${GPORT:-18101}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SOFTDPU=${SOFTDPU:-$BUILD/softdpu}
MODELS_DIR=${MODELS_DIR:-$PWD/models}
IO_THREADS=${IO_THREADS:-1}
LABEL=${LABEL:-}
RT_PRIORITY=${RT_PRIORITY:-0}
RT_FLAG=""  # only when asked: run_ab.sh may alternate with a server that predates the flag
[ "$RT_PRIORITY" -gt 0 ] && RT_FLAG="--realtime-priority $RT_PRIORITY"
RT_CLIENT=${RT_CLIENT:-$RT_PRIORITY}
fifo() {  # PRIORITY command...: the command at SCHED_FIFO PRIORITY, or as it is when 0
  prio=$1
  shift
  if [ "$prio" -gt 0 ]; then chrt -f "$prio" "$@"; else "$@"; fi
}
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
/usr/bin/python3 bench/serving/make_bodies.py "$TMP"
mkdir "$TMP/repo"
for m in fashion_mlp fashion_lstm; do ln -s "$MODELS_DIR/$m" "$TMP/repo/$m"; done
# shellcheck disable=SC2086
taskset -c "$SERVER_CPU" "$SOFTDPU" serve --model-repository "$TMP/repo" --http-port $PORT \
  --grpc-port $GPORT --metrics-port -1 --threads 1 --http-threads "$IO_THREADS" \
  --grpc-threads "$IO_THREADS" $RT_FLAG >"$TMP/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf localhost:$PORT/v2/health/ready >/dev/null && break; sleep 0.1; done
# shellcheck disable=SC2086
client() { fifo "$RT_CLIENT" taskset -c "$CLIENT_CPU" "$@" -d "$SECS" --warmup 0.5 --json ${GEN_ARGS:-}; }
load() {  # model transport concurrency rate
  case $2 in
    json) client "$BUILD/bench/softdpu_http_load" --port $PORT --model "$1" --body "$TMP/$1.json.body" -c "$3" -r "$4" ;;
    bin) client "$BUILD/bench/softdpu_http_load" --port $PORT --model "$1" --body "$TMP/$1.bin.body" \
      --header-length "$(cat "$TMP/$1.bin.hlen")" -c "$3" -r "$4" ;;
    grpc) client "$BUILD/bench/softdpu_grpc_load" --address 127.0.0.1:$GPORT --model "$1" -c "$3" -r "$4" ;;
  esac
}
for r in $(seq "$ROUNDS"); do
  echo "# round $r, $(uptime)"
  for m in ${MODELS:-fashion_mlp fashion_lstm}; do
    fifo "$RT_PRIORITY" taskset -c "$SERVER_CPU" "$SOFTDPU" bench "models/$m/1/model.onnx" --threads 1 \
      --iterations 20000 --json | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); print(json.dumps({'round': $r, 'server': '$LABEL', 'model': '$m', 'transport': 'in-process', 'load': '-', 'mode': 'closed', 'concurrency': 1, 'throughput_rps': j['throughput_per_s'], 'p50_us': j['p50_us'], 'p99_us': j['p99_us'], 'p999_us': None}))"
    for t in ${TRANSPORTS:-bin grpc json}; do
      emit() { echo "{\"round\": $r, \"server\": \"$LABEL\", \"transport\": \"$t\", \"load\": \"$1\", \"run\": $2}"; }
      emit "closed, 1 connection" "$(load $m $t 1 0)"
      peak=$(load $m $t 8 0 || true)
      emit "closed, 8 connections (peak)" "$peak"
      max=$(echo "$peak" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['throughput_rps'])")
      for f in 0.25 0.5; do
        emit "open, $f x peak" "$(load $m $t 8 "$(/usr/bin/python3 -c "print(round($f * $max))")")"
      done
    done
  done
done
