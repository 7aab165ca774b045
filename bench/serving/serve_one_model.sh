# shellcheck shell=sh
# Sourced by bench/serving/tail_ab.sh and tail_sched.sh: serves $MODEL alone with
# `softdpu serve --threads 1 --http-threads 1` pinned to CPU $SERVER_CPU on ports $PORT (HTTP),
# $PORT+1 (gRPC) and $MPORT (metrics, -1 = off), makes the request bodies in $TMP, and sets
# SERVER (pid) and an EXIT trap that stops it. SERVE_ARGS adds server flags.
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
/usr/bin/python3 bench/serving/make_bodies.py "$TMP"
mkdir "$TMP/repo"
ln -s "$PWD/models/$MODEL" "$TMP/repo/$MODEL"
# shellcheck disable=SC2086
taskset -c "$SERVER_CPU" "$SOFTDPU" serve --model-repository "$TMP/repo" --http-port "$PORT" \
  --grpc-port $((PORT + 1)) --metrics-port "$MPORT" --threads 1 --http-threads 1 ${SERVE_ARGS:-} \
  >"$TMP/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "localhost:$PORT/v2/health/ready" >/dev/null && break; sleep 0.1; done
