#!/bin/sh
# Instructions of a yield-pair round (two switches) and of a channel ping-pong
# round trip, exactly, from valgrind's callgrind, for two builds of libspindle
# side by side: run N and 2N rounds of engine_count against each, subtract,
# divide by the N extra rounds. A build option's cost to the engine's own paths
# (the tracer compiled in and off, against -DSPINDLE_TRACE=OFF) shows here
# without the machine's noise, which moves wall-clock figures by more.
# Usage: callgrind_engine.sh BENCH_BIN_DIR NAME_A LIB_DIR_A NAME_B LIB_DIR_B
set -eu
[ $# -eq 5 ] || { echo "usage: $0 BENCH_BIN_DIR NAME_A LIB_DIR_A NAME_B LIB_DIR_B" >&2; exit 2; }
bin=$1
n=100000
for d in "$3" "$5"; do
  [ -e "$d/libspindle.so.0.1" ] || { echo "callgrind_engine: no libspindle in $d" >&2; exit 1; }
done
count() { # libdir workload rounds -> instructions
  LD_LIBRARY_PATH=$1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$bin/engine_count" "$2" "$3" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_round() { # libdir workload -> instructions per round
  a=$(count "$1" "$2" "$n")
  b=$(count "$1" "$2" $((n * 2)))
  [ -n "$a" ] && [ -n "$b" ] || { echo "callgrind_engine: engine_count $2 failed with $1" >&2; exit 1; }
  echo $(( (b - a) / n ))
}
echo "instructions per round (callgrind, $n extra rounds, GOMAXPROCS=1):"
for w in yield pingpong; do
  echo "  $w, $2: $(per_round "$3" $w)"
  echo "  $w, $4: $(per_round "$5" $w)"
done
