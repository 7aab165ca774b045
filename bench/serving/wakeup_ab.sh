#!/bin/sh
# What a cross-CPU wake-up costs a batch-1 round trip (docs/serving.md, "Where the latency goes"):
# fashion_mlp, binary REST, closed loop at 1 connection, server pinned to CPU 0 with one HTTP
# thread, the load generator on CPU 0 (it and the server take turns on one CPU: no wake-up crosses
# CPUs) or on CPU 1, with --busy-poll-us 0 and 200. Interleaved rounds, one JSON line per run.
#   bench/serving/wakeup_ab.sh [ROUNDS] > ab.txt     (from the repository root, after a build)
set -eu
ROUNDS=${1:-3}
BUILD=${BUILD:-build}
PORT=${PORT:-18300}
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
/usr/bin/python3 bench/serving/make_bodies.py "$TMP"
mkdir "$TMP/repo"
ln -s "$PWD/models/fashion_mlp" "$TMP/repo/fashion_mlp"
for r in $(seq "$ROUNDS"); do
  echo "# round $r, $(uptime)"
  for spin in 0 200; do
    taskset -c 0 "$BUILD/softdpu" serve --model-repository "$TMP/repo" --http-port $PORT \
      --grpc-port 0 --metrics-port -1 --threads 1 --http-threads 1 --grpc-threads 1 \
      --busy-poll-us $spin >"$TMP/serve.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 100); do curl -sf localhost:$PORT/v2/health/ready >/dev/null && break; sleep 0.1; done
    for cpu in 0 1; do
      echo "{\"case\": \"busy-poll $spin us, client on CPU $cpu\", \"run\": $(taskset -c $cpu \
        "$BUILD/bench/softdpu_http_load" --port $PORT --model fashion_mlp \
        --body "$TMP/fashion_mlp.bin.body" --header-length "$(cat "$TMP/fashion_mlp.bin.hlen")" \
        -c 1 -d 2 --warmup 0.3 --json)}"
    done
    kill $SERVER
    wait $SERVER 2>/dev/null || true
  done
done
