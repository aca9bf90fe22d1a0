#!/bin/sh
# Instructions per switch, exactly, from valgrind's callgrind: run N and 2N
# round trips, subtract, divide by the 2N extra switches. Usage: callgrind_switch.sh BIN_DIR
set -eu
bin=$1
n=200000
count() { # peer rounds -> total instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin/switch_count" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for peer in spindle boost; do
  a=$(count "$peer" "$n")
  b=$(count "$peer" $((n * 2)))
  echo "$peer: $(( (b - a) / (2 * n) )) instructions per switch (callgrind, $n extra round trips)"
done
