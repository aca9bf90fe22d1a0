#!/usr/bin/env bash
# What tracing costs, side by side: each comparison runs one `spindle demo` workload in
# two variants, alternately (A B, then B A in the next round, so a drift of the shared
# machine falls on both), for ROUNDS rounds, and keeps the median of each variant.
#   out    libspindle built with the tracer compiled out (SPINDLE_TRACE=OFF)
#   off    the ordinary build, no session: the tracer's one branch per switch
#   on     the full switch trace, streamed: `spindle trace record` (EventPipe)
#   meter  dotnet-counters collecting the Spindle.Runtime meter once a second, attached
#          from the start (the histograms' 5 ms sample of every second included; these
#          runs last a few seconds, so that the meter is read several times)
# Every figure is the demo's own (its workload alone, not the process around it).
# Writes one line per comparison and variant to stdout: "NAME VARIANT MEDIAN UNIT [DROPPED]".
# Usage: bench/tracing.sh BUILD_DIR   (BUILD_DIR/cli/spindle, BUILD_DIR/notrace/bin,
#        BUILD_DIR/tools/dotnet-counters; ./build.sh bench provides them)
set -euo pipefail
build=$(cd "$1" && pwd)
rounds=${TRACING_ROUNDS:-7}
spindle=$build/cli/spindle
notrace=$build/notrace/bin
counters=$build/tools/dotnet-counters
for f in "$spindle" "$notrace/libspindle.so" "$counters"; do
  [ -e "$f" ] || { echo "tracing: $f is missing (run ./build.sh bench)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The compiled-out build must really be the one measured: spindle says it has no tracer.
SPINDLE_NATIVE_PATH=$notrace "$spindle" trace record --out "$work/check.nettrace" -- demo yield 1000 \
  > "$work/check.out" 2>&1 || true
if ! grep -q 'compiled out' "$work/check.out"; then
  echo "tracing: $notrace/libspindle.so has the tracer: it was not built with SPINDLE_TRACE=OFF" >&2
  cat "$work/check.out" >&2; exit 1
fi

# The demo's figure in its output: "N ns per ..." or, for the sieve, "in N ms".
figure() {
  sed -nE 's/.* ([0-9.]+) ns per (switch|round trip|hop)$/\1/p; s/.* primes through .* in ([0-9.]+) ms$/\1/p' "$1" | tail -1
}

# run VARIANT DEMO ARGS...: the figure, or a failure that names the variant.
run() {
  local variant=$1; shift
  local out=$work/run.out
  case $variant in
    out) SPINDLE_NATIVE_PATH=$notrace "$spindle" demo "$@" > "$out" 2>&1 ;;
    off) "$spindle" demo "$@" > "$out" 2>&1 ;;
    on) "$spindle" trace record --out "$work/t.nettrace" -- demo "$@" > "$out" 2>&1
        rm -f "$work/t.nettrace" ;;
    meter)
      rm -f "$work/port.sock"
      "$counters" collect --counters Spindle.Runtime --refresh-interval 1 --format csv \
        -o "$work/counters.csv" --diagnostic-port "$work/port.sock" > "$work/counters.out" 2>&1 &
      local collector=$!
      for _ in $(seq 100); do [ -S "$work/port.sock" ] && break; sleep 0.1; done
      DOTNET_DiagnosticPorts=$work/port.sock "$spindle" demo "$@" > "$out" 2>&1
      wait "$collector" || { echo "tracing: dotnet-counters failed" >&2; cat "$work/counters.out" >&2; exit 1; }
      # The switch count and the histograms' sample, the part that costs, were read.
      grep -q 'spindle.switches' "$work/counters.csv" && grep -q 'spindle.switch.duration' "$work/counters.csv" ||
        { echo "tracing: dotnet-counters did not see the meter's switches and histograms" >&2; exit 1; } ;;
  esac
  local v
  v=$(figure "$out")
  [ -n "$v" ] || { echo "tracing: no figure from '$variant' demo $*:" >&2; cat "$out" >&2; exit 1; }
  if [ "$variant" = on ]; then
    local dropped
    dropped=$(sed -nE 's/.* ([0-9,]+) dropped\).*/\1/p' "$out" | tr -d , | tail -1)
    echo "$v ${dropped:-?}"
  else
    echo "$v"
  fi
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# compare NAME UNIT A B DEMO ARGS...
compare() {
  local name=$1 unit=$2 a=$3 b=$4; shift 4
  local r first second fa fb
  : > "$work/$a" ; : > "$work/$b"; : > "$work/dropped"
  for r in $(seq "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then first=$a second=$b; else first=$b second=$a; fi
    for v in "$first" "$second"; do
      run "$v" "$@" --maxprocs 1 > "$work/fig" || exit 1
      read -r fa fb < "$work/fig"
      echo "$fa" >> "$work/$v"
      [ -n "${fb:-}" ] && echo "$fb" >> "$work/dropped"
    done
    echo "tracing: $name, round $r of $rounds" >&2
  done
  for v in "$a" "$b"; do
    if [ "$v" = on ]; then
      echo "$name $v $(median < "$work/$v") $unit $(sort -g "$work/dropped" | tail -1)"
    else
      echo "$name $v $(median < "$work/$v") $unit"
    fi
  done
}

compare yield ns out off yield 5000000
compare pingpong ns out off pingpong 2000000
compare yield_traced ns off on yield 1000000
compare ring_traced ns off on ring 10000
compare sieve_traced ms off on sieve 1000
compare yield_metered ns off meter yield 100000000
compare pingpong_metered ns off meter pingpong 20000000
