#!/bin/sh
# run.sh for two servers, alternated round by round (docs/serving.md, "A/B against main"):
# A = a main build with main's model configs and one HTTP / gRPC thread (run.sh as on main),
# B = this tree's build, its configs and IO_THREADS (default 2).
#   bench/serving/run_ab.sh ROUNDS SECONDS MAIN_BINARY MAIN_MODELS_DIR > ab.txt
#   bench/serving/summarize.py ab.txt
set -eu
ROUNDS=$1
SECS=$2
for r in $(seq "$ROUNDS"); do
  SOFTDPU=$3 MODELS_DIR=$4 IO_THREADS=1 LABEL=main bench/serving/run.sh 1 "$SECS" | sed "s/\"round\": 1,/\"round\": $r,/"
  LABEL=branch bench/serving/run.sh 1 "$SECS" | sed "s/\"round\": 1,/\"round\": $r,/"
done
