#!/bin/sh
# run.sh with the load generators' old and new open-loop pacing, alternated round by round against
# one build (docs/serving.md, "Where the open-loop tail comes from"): sleep = sleep_until with the
# default 50 us timer slack (before 2026-12-04 23:00 UTC), spin = the default (1 ns slack, spin
# the last 30 us). MODELS / TRANSPORTS narrow it as in run.sh.
#   bench/serving/pacing_ab.sh ROUNDS SECONDS > pacing.txt; bench/serving/summarize.py pacing.txt
set -eu
ROUNDS=$1
SECS=$2
for r in $(seq "$ROUNDS"); do
  GEN_ARGS="--timer-slack-ns 50000 --spin-us 0" LABEL=sleep bench/serving/run.sh 1 "$SECS" |
    sed "s/\"round\": 1,/\"round\": $r,/"
  LABEL=spin bench/serving/run.sh 1 "$SECS" | sed "s/\"round\": 1,/\"round\": $r,/"
done
