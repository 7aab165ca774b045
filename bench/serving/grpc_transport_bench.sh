#!/usr/bin/env bash
# Transport cost of the gRPC front end (docs/serving-grpc.md): softdpu_grpc_load against
# softdpu_grpc_null_server (a no-op core; FP32 [1, 784] identity), with 1 and with 2 ModelInfer
# threads, runs interleaved so that machine noise hits both alike. Prints one JSON line per run,
# prefixed by the case name; summarise with the median of each case.
#   bench/serving/grpc_transport_bench.sh [build-dir] [rounds] > runs.txt
set -euo pipefail
build=${1:-build}
rounds=${2:-5}
srv=$build/bench/softdpu_grpc_null_server
load=$build/bench/softdpu_grpc_load
"$srv" --address 127.0.0.1:18101 --threads 1 >/dev/null &
p1=$!
"$srv" --address 127.0.0.1:18102 --threads 2 >/dev/null &
p2=$!
trap 'kill $p1 $p2' EXIT
sleep 1
for ((i = 0; i < rounds; ++i)); do
  for t in 1 2; do
    echo "closed_c1_raw threads$t $($load --address 127.0.0.1:1810$t --model identity -c 1 -d 2 --warmup 0.3 --json)"
  done
  echo "closed_c1_typed threads1 $($load --address 127.0.0.1:18101 --model identity -c 1 -d 2 --warmup 0.3 --typed --json)"
  for t in 1 2; do
    echo "closed_c8_raw threads$t $($load --address 127.0.0.1:1810$t --model identity -c 8 -d 2 --warmup 0.3 --json)"
  done
done
for ((i = 0; i < (rounds + 1) / 2; ++i)); do
  for r in 1000 2000 4000; do
    for t in 1 2; do
      echo "open_r$r threads$t $($load --address 127.0.0.1:1810$t --model identity -c 2 -r $r -d 3 --warmup 0.5 --json)"
    done
  done
done
