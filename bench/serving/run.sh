#!/bin/sh
# Serving load benchmark (docs/serving.md): softdpu serve on loopback, wrk sweeping connections
# (closed loop: wrk has no fixed offered rate, so load rises with connections), JSON and binary
# bodies, for the bundled MLP and LSTM; plus `softdpu bench` in-process for comparison.
#   bench/serving/run.sh [ROUNDS] [SECONDS]     (from the repository root, after a build)
set -eu
ROUNDS=${1:-3}
SECS=${2:-3}
BIN=${BIN:-build/softdpu}
PORT=${PORT:-18100}
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
/usr/bin/python3 bench/serving/make_bodies.py "$TMP"
$BIN serve --http-port $PORT --metrics-port -1 --threads 1 --http-threads 2 >"$TMP/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -sf localhost:$PORT/v2/health/ready >/dev/null && break; sleep 0.1; done
echo "round model encoding connections threads rps p50_us p99_us p999_us non200 errors"
for r in $(seq "$ROUNDS"); do
  for m in fashion_mlp fashion_lstm; do
    $BIN bench models/$m/1/model.onnx --threads 1 --iterations 5000 --json |
      /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); print('$r', '$m', 'in-process', 0, 1, round(j.get('throughput_per_s', 0)), j['p50_us'], j['p99_us'], '-', 0, 0)" || true
    for enc in json bin; do
      hlen=""
      [ "$enc" = bin ] && hlen=$(cat "$TMP/$m.bin.hlen")
      for c in 1 2 4 8 16; do
        t=1
        [ "$c" -ge 2 ] && t=2
        line=$(BODY="$TMP/$m.$enc.body" HLEN="$hlen" wrk -t$t -c$c -d${SECS}s -s bench/serving/infer.lua \
          "http://127.0.0.1:$PORT/v2/models/$m/infer" | grep RESULT)
        echo "$r $m $enc $c $t $line" | sed 's/RESULT //; s/[a-z0-9]*=//g'
      done
    done
  done
done
