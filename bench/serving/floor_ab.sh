#!/bin/sh
# The transport floor against `softdpu serve` (docs/serving.md, "The transport floor"): per round,
# the loopback TCP ping-pong (softdpu_tcp_pingpong, an epoll server that only answers, with the
# MLP binary request's sizes; its server as a thread of the client's process and as a process)
# and each given server binary under softdpu_http_load (binary REST) and softdpu_grpc_load, for
# fashion_mlp and fashion_lstm, closed loop at 1 and 8 connections (TRANSPORTS: bin grpc by
# default; json adds the JSON REST body).
# Server (and ping-pong server) pinned to CPU $SERVER_CPU with one HTTP and one gRPC thread, the
# client to CPU $CLIENT_CPU. Besides latency and req/s, each run reports the server's CPU time per
# request (all its threads, from /proc/PID/task/*/schedstat, over the model's inference_count):
# the figure that bounds one core's throughput and that the other engineers' load perturbs least.
# The gRPC null server(s) of $NULL_SERVERS (default this build's) give gRPC's own floor.
#   bench/serving/floor_ab.sh ROUNDS SOFTDPU_BINARY... > ab.txt; bench/serving/summarize_ab.py ab.txt
set -eu
ROUNDS=$1
shift
BUILD=${BUILD:-build}
SECS=${SECS:-2}
PORT=${PORT:-18400}
GPORT=${GPORT:-18401}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
MODELS=${MODELS:-fashion_mlp fashion_lstm}
TRANSPORTS=${TRANSPORTS:-bin grpc}
NULL_SERVERS=${NULL_SERVERS-$BUILD/bench/softdpu_grpc_null_server}
TMP=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
/usr/bin/python3 bench/serving/make_bodies.py "$TMP"
mkdir "$TMP/repo"
for m in $MODELS; do ln -s "$PWD/models/$m" "$TMP/repo/$m"; done
cpu_ns() { cat /proc/$1/task/*/schedstat | awk '{s += $1} END {printf "%.0f", s}'; }
count() { curl -sf localhost:$PORT/v2/models/$1/stats | /usr/bin/python3 -c \
  "import json,sys; print(json.load(sys.stdin)['model_stats'][0]['inference_count'])"; }
for r in $(seq "$ROUNDS"); do
  echo "# round $r, $(uptime)"
  for c in 1 8; do
    # Server thread in the client's process, then (--fork) in a process of its own, as a real
    # server: on one CPU each client-server switch then changes address space.
    for fork in "" --fork; do
      run=$(taskset -c "$CLIENT_CPU" "$BUILD/bench/softdpu_tcp_pingpong" --server epoll $fork \
        --server-cpu "$SERVER_CPU" --client-cpu "$CLIENT_CPU" --request 3511 --response 323 -c $c \
        -d "$SECS" --warmup 0.3 --json 2>"$TMP/pp.err")
      cpu=$(sed -n 's/server CPU per request: \([0-9.]*\) us.*/\1/p' "$TMP/pp.err")
      echo "{\"round\": $r, \"server\": \"tcp ping-pong${fork:+ (2 processes)}\", \"model\": \"-\", \"transport\": \"tcp\", \"concurrency\": $c, \"server_cpu_us\": $cpu, \"run\": $run}"
    done
  done
  # gRPC's own floor: the gRPC front end over a core that answers at once (identity, 784 floats
  # each way), one ModelInfer thread, for each binary in $NULL_SERVERS.
  for null in $NULL_SERVERS; do
    taskset -c "$SERVER_CPU" "$null" --address 127.0.0.1:$GPORT --threads 1 >"$TMP/null.log" 2>&1 &
    SERVER=$!
    sleep 0.5
    for c in 1 8; do
      # Warm-up apart: the CPU time below is counted over the measured requests only.
      taskset -c "$CLIENT_CPU" "$BUILD/bench/softdpu_grpc_load" --address 127.0.0.1:$GPORT \
        --model identity -c $c -d 0.3 --warmup 0 >/dev/null
      t0=$(cpu_ns $SERVER)
      run=$(taskset -c "$CLIENT_CPU" "$BUILD/bench/softdpu_grpc_load" --address 127.0.0.1:$GPORT \
        --model identity -c $c -d "$SECS" --warmup 0 --json)
      t1=$(cpu_ns $SERVER)
      n=$(echo "$run" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['ok'])")
      cpu=$(/usr/bin/python3 -c "print(round(($t1 - $t0) / 1e3 / max(1, $n), 1))")
      echo "{\"round\": $r, \"server\": \"$null\", \"model\": \"-\", \"transport\": \"grpc null\", \"concurrency\": $c, \"server_cpu_us\": $cpu, \"run\": $run}"
    done
    kill $SERVER
    wait $SERVER 2>/dev/null || true
    SERVER=
  done
  for bin in "$@"; do
    taskset -c "$SERVER_CPU" "$bin" serve --model-repository "$TMP/repo" --http-port $PORT \
      --grpc-port $GPORT --metrics-port -1 --threads 1 --http-threads 1 --grpc-threads 1 \
      >"$TMP/serve.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 100); do curl -sf localhost:$PORT/v2/health/ready >/dev/null && break; sleep 0.1; done
    for m in $MODELS; do
      for t in $TRANSPORTS; do
        for c in 1 8; do
          n0=$(count $m)
          t0=$(cpu_ns $SERVER)
          if [ $t = grpc ]; then
            run=$(taskset -c "$CLIENT_CPU" "$BUILD/bench/softdpu_grpc_load" --address 127.0.0.1:$GPORT \
              --model $m -c $c -d "$SECS" --warmup 0.3 --json)
          elif [ $t = json ]; then
            run=$(taskset -c "$CLIENT_CPU" "$BUILD/bench/softdpu_http_load" --port $PORT --model $m \
              --body "$TMP/$m.json.body" -c $c -d "$SECS" --warmup 0.3 --json)
          else
            run=$(taskset -c "$CLIENT_CPU" "$BUILD/bench/softdpu_http_load" --port $PORT --model $m \
              --body "$TMP/$m.bin.body" --header-length "$(cat "$TMP/$m.bin.hlen")" -c $c \
              -d "$SECS" --warmup 0.3 --json)
          fi
          t1=$(cpu_ns $SERVER)
          n1=$(count $m)
          cpu=$(/usr/bin/python3 -c "print(round(($t1 - $t0) / 1e3 / max(1, $n1 - $n0), 1))")
          echo "{\"round\": $r, \"server\": \"$bin\", \"model\": \"$m\", \"transport\": \"$t\", \"concurrency\": $c, \"server_cpu_us\": $cpu, \"run\": $run}"
        done
      done
    done
    kill $SERVER
    wait $SERVER 2>/dev/null || true
    SERVER=
  done
done
