#!/bin/sh
# Scheduler evidence for the open-loop tail (docs/serving.md, "Where the open-loop tail comes
# from"): one open-loop run of fashion_mlp, binary body, at RATE req/s on $CONNS (8) connections
# (server on CPU $SERVER_CPU, generator on CPU $CLIENT_CPU), with `perf sched record -a` over the
# measured window (needs root for the sched tracepoints). Prints the generator's report and, from
# `perf sched timehist`, how long the server's and the generator's threads waited runnable for a
# CPU after each wake-up ("sch delay") and which tasks held the CPU meanwhile.
#   bench/serving/tail_sched.sh RATE [SECONDS] [generator options...]
set -eu
RATE=$1
SECS=${2:-2}
shift  # RATE; SECONDS is optional (a failing `shift 2` would end the script under dash)
if [ $# -gt 0 ]; then shift; fi
BUILD=${BUILD:-build}
SOFTDPU=${SOFTDPU:-$BUILD/softdpu}
PORT=${PORT:-18310}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
MODEL=${MODEL:-fashion_mlp}
MPORT=-1
. bench/serving/serve_one_model.sh
taskset -c "$CLIENT_CPU" "$BUILD/bench/softdpu_http_load" --port "$PORT" --model "$MODEL" \
  --body "$TMP/$MODEL.bin.body" --header-length "$(cat "$TMP/$MODEL.bin.hlen")" -c "${CONNS:-8}" -r "$RATE" \
  -d "$SECS" --warmup 1 --json "$@" &
CLIENT=$!
sleep 1
perf sched record -a -o "$TMP/sched.data" -- sleep "$SECS" >/dev/null 2>&1
wait $CLIENT
echo "# $(uptime)"
perf sched timehist -i "$TMP/sched.data" 2>/dev/null >"$TMP/timehist.txt"
/usr/bin/python3 bench/serving/summarize_sched.py "$TMP/timehist.txt" "$SERVER" "$CLIENT"
