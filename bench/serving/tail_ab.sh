#!/bin/sh
# Where the open-loop tail comes from (docs/serving.md, "Where the open-loop tail comes from"):
# `softdpu serve` on CPU $SERVER_CPU, softdpu_http_load on CPU $CLIENT_CPU, $MODEL (fashion_mlp)
# with a binary body (TRANSPORT=grpc: softdpu_grpc_load). Per round: the closed-loop peak at 8 connections, then open loop at
# $FRACTION x that peak once per pacing variant (interleaved, same server), each printing the
# generator's send lateness and answer-minus-send percentiles next to the server's own request
# time (its /metrics histogram, delta over the run, percentiles interpolated inside the buckets).
#   bench/serving/tail_ab.sh [ROUNDS] [SECONDS] > tail.txt; bench/serving/summarize_tail.py tail.txt
# VARIANTS: space-separated "label:connections:generator options" (options comma-separated;
# default: 8 connections with the old sleep_until pacing, with the timer slack at 1 ns, and with
# 1 ns slack plus spinning the last 30 us). SERVE_ARGS: extra server flags.
set -eu
ROUNDS=${1:-3}
SECS=${2:-3}
BUILD=${BUILD:-build}
SOFTDPU=${SOFTDPU:-$BUILD/softdpu}
PORT=${PORT:-18300}
MPORT=${MPORT:-18302}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
FRACTION=${FRACTION:-0.5}
MODEL=${MODEL:-fashion_mlp}
VARIANTS=${VARIANTS:-"sleep:8:--timer-slack-ns=50000,--spin-us=0 slack1ns:8:--timer-slack-ns=1,--spin-us=0 spin30:8:--timer-slack-ns=1,--spin-us=30"}
. bench/serving/serve_one_model.sh
load() {  # connections rate extra-options...
  c=$1 r=$2
  shift 2
  if [ "${TRANSPORT:-bin}" = grpc ]; then
    taskset -c "$CLIENT_CPU" "$BUILD/bench/softdpu_grpc_load" --address 127.0.0.1:$((PORT + 1)) \
      --model "$MODEL" -c "$c" -r "$r" -d "$SECS" --warmup 0.5 --json "$@"
  else
    taskset -c "$CLIENT_CPU" "$BUILD/bench/softdpu_http_load" --port "$PORT" --model "$MODEL" \
      --body "$TMP/$MODEL.bin.body" --header-length "$(cat "$TMP/$MODEL.bin.hlen")" -c "$c" \
      -r "$r" -d "$SECS" --warmup 0.5 --json "$@"
  fi
}
hist() {  # "le=count|..." of the server's request-time histogram
  curl -s "localhost:$MPORT/metrics" | sed -n 's/^softdpu_inference_request_duration_seconds_bucket{.*le="\([^"]*\)"} \(.*\)$/\1=\2/p' | tr '\n' '|'
}
for round in $(seq "$ROUNDS"); do
  echo "# round $round, $(uptime)"
  peak=$(load 8 0)
  rate=$(echo "$peak" | /usr/bin/python3 -c "import json,sys; print(round($FRACTION * json.load(sys.stdin)['throughput_rps']))")
  echo "{\"round\": $round, \"variant\": \"peak\", \"run\": $peak}"
  for v in $VARIANTS; do
    label=${v%%:*}
    conns=$(echo "$v" | cut -d: -f2)
    opts=$(echo "$v" | cut -d: -f3- | tr ',' ' ')
    before=$(hist)
    # shellcheck disable=SC2086
    run=$(load "$conns" "$rate" $opts)
    after=$(hist)
    echo "{\"round\": $round, \"variant\": \"$label\", \"run\": $run, \"hist_before\": \"$before\", \"hist_after\": \"$after\"}"
  done
done
