#!/bin/sh
# Where the time of a batch-1 request goes, from the server's own statistics: one wrk connection
# with a binary body for SECONDS, then GET .../stats. "in server" = arrival (body read) to
# response handed to the socket; "compute" = the Session run alone.
#   bench/serving/server_time.sh [SECONDS]     (from the repository root, after a build)
set -eu
SECS=${1:-5}
BIN=${BIN:-build/softdpu}
PORT=${PORT:-18200}
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
/usr/bin/python3 bench/serving/make_bodies.py "$TMP"
$BIN serve --http-port $PORT --metrics-port -1 --threads 1 --http-threads 2 >"$TMP/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -sf localhost:$PORT/v2/health/ready >/dev/null && break; sleep 0.1; done
for m in fashion_mlp fashion_lstm; do
  for enc in bin json; do
    hlen=""
    [ "$enc" = bin ] && hlen=$(cat "$TMP/$m.bin.hlen")
    before=$(curl -s localhost:$PORT/v2/models/$m/stats)
    res=$(BODY="$TMP/$m.$enc.body" HLEN="$hlen" wrk -t1 -c1 -d${SECS}s -s bench/serving/infer.lua \
      "http://127.0.0.1:$PORT/v2/models/$m/infer" | grep RESULT)
    after=$(curl -s localhost:$PORT/v2/models/$m/stats)
    /usr/bin/python3 - "$m" "$enc" "$before" "$after" "$res" <<'PY'
import json, sys
m, enc, b, a, res = sys.argv[1:]
b = json.loads(b)["model_stats"][0]["inference_stats"]
a = json.loads(a)["model_stats"][0]["inference_stats"]
d = lambda k: (a[k]["ns"] - b[k]["ns"]) / max(a[k]["count"] - b[k]["count"], 1) / 1000
p50 = res.split("p50=")[1].split()[0]
print(f"{m} {enc}: wrk p50 {p50} us; mean in server {d('success'):.1f} us, of which queue "
      f"{d('queue'):.1f}, input copy {d('compute_input'):.1f}, run {d('compute_infer'):.1f}, "
      f"output copy {d('compute_output'):.1f}")
PY
  done
done
