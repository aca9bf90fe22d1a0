#!/usr/bin/env bash
# Writes docs/results.md from the logs of one ./build.sh bench run: every figure
# beside its peer measured in the same run, the ratio (Spindle / peer: below 1 is
# Spindle ahead), and the project's target where it has one, met or missed.
# A figure that is missing, zero or not a number fails the run: a row never shows
# something that measured nothing. BenchmarkDotNet rows whose error (half the 99.9%
# confidence interval) exceeds a quarter of the mean say so.
# Usage: bench/results.sh BUILD_DIR   (after bench/run.sh and bench/segments.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
out="$root/docs/results.md"
bdn_log="$build/bench-dotnet.log"
missing=0

need() { # file: fail clearly when a log is absent
  [ -s "$1" ] || { echo "results: $1 is missing or empty (run ./build.sh bench)" >&2; exit 1; }
}
for f in "$bdn_log" "$build/bench-go.txt" "$build/bench-switch.txt" "$build/bench-callgrind.txt" \
  "$build/bench-callgrind-engine.txt" "$build/bench-segments.txt" "$build/bench-versus.json" \
  "$build/bench-tracing.txt"; do need "$f"; done

# BenchmarkDotNet: "mean error" in ns of METHOD (at PROCS when the table has MaxProcs),
# read through each table's header, whose columns vary (a Median column comes and goes).
bdn() {
  awk -F'|' -v m="$1" -v p="${2:-}" '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    function ns(s) { s = trim(s); gsub(/,/, "", s); sub(/ ns$/, "", s); return s }
    trim($2) == "Method" { mean = err = procs = 0
      for (i = 2; i < NF; i++) { h = trim($i); if (h == "Mean") mean = i; if (h == "Error") err = i; if (h == "MaxProcs") procs = i }
      next }
    mean && trim($2) == m && (p == "" || (procs && trim($procs) == p)) { print ns($mean), ns($err); exit }
  ' "$bdn_log"
}
# "name procs value" lines (Go, OS threads, parked memory): the value (or field FIELD).
fig() { awk -v n="$2" -v p="$3" -v f="${4:-3}" '$1 == n && $2 == p { print $f; exit }' "$1"; }
seg() { awk -v n="$1" '$1 == n { print $2; exit }' "$build/bench-segments.txt"; }
gbench() { # Google Benchmark: the ns_per_switch counter of NAME_mean
  awk -v n="$1_mean" '$1 == n { for (i = 1; i <= NF; i++) if ($i ~ /^ns_per_switch=/) { v = $i; sub(/^ns_per_switch=/, "", v); sub(/ns$/, "", v); print v } }' \
    "$build/bench-switch.txt"
}
versus() { # ROW PEER METRIC: a figure of `spindle versus --json` (empty when it has none)
  python3 -c 'import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
row = next((r for r in rows if r["id"] == sys.argv[2]), None)
v = row and row["cells"][sys.argv[3]]["figures"].get(sys.argv[4], {}).get("value")
print("" if v is None else v)' "$build/bench-versus.json" "$1" "$2" "$3"
}
trc() { fig "$build/bench-tracing.txt" "$@"; } # NAME VARIANT [FIELD]: 3 the median, 5 records dropped
callgrind() { awk -F: -v n="$1" 'index($1, n) { gsub(/ /, "", $2); print $2; exit }' "$build/bench-callgrind.txt"; }
# callgrind_engine.sh: instructions per round of WORKLOAD with the build NAME.
engine() { awk -F: -v n="  $1, $2" '$1 == n { gsub(/ /, "", $2); print $2; exit }' "$build/bench-callgrind-engine.txt"; }

valid() { awk -v v="$1" 'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/ && v + 0 > 0) }'; }
fmt() { # value unit -> "1,234 ns", "1.87 s" (nanoseconds scale up to ms and s)
  awk -v v="$1" -v u="$2" 'BEGIN {
    if (u == "ns" && v >= 1e9) { v /= 1e9; u = "s" } else if (u == "ns" && v >= 1e7) { v /= 1e6; u = "ms" }
    d = v >= 100 || v == int(v) ? 0 : v >= 10 ? 1 : 2; s = sprintf("%." d "f", v)
    whole = s; frac = ""; if (index(s, ".")) { whole = substr(s, 1, index(s, ".") - 1); frac = substr(s, index(s, ".")) }
    grouped = ""
    while (length(whole) > 3) { grouped = "," substr(whole, length(whole) - 2) grouped; whole = substr(whole, 1, length(whole) - 3) }
    printf "%s%s%s %s", whole, grouped, frac, u }'
}
# A figure with its noise note: value [error] unit.
cell() {
  local v=$1 e=${2:-} u=$3 note=
  if [ -n "$e" ] && valid "$e" && awk -v v="$v" -v e="$e" 'BEGIN { exit !(e > v / 4) }'; then
    note=" (noisy: ±$(awk -v v="$v" -v e="$e" 'BEGIN { printf "%.0f", 100 * e / v }')%)"
  fi
  echo "$(fmt "$v" "$u")$note"
}
rows=()
# row WHAT SPINDLE SPINDLE_ERR PEER_NAME PEER PEER_ERR UNIT TARGET_MAX
# TARGET_MAX: the ratio the project aims to stay at or below ("" for none).
row() {
  local what=$1 s=$2 se=$3 peer=$4 p=$5 pe=$6 unit=$7 target=${8:-}
  if ! valid "$s" || ! valid "$p"; then
    echo "results: no figure for '$what' (Spindle '$s', $peer '$p')" >&2
    missing=$((missing + 1)); return
  fi
  # The ratio and the verdict from the exact ratio: one that rounds to the target
  # but is above it is missed, and shows a third decimal.
  local r t
  read -r r t <<< "$(awk -v a="$s" -v b="$p" -v t="$target" 'BEGIN {
    x = a / b; r = sprintf("%.2f", x); v = ""
    if (t != "") { v = x <= t ? "met" : "missed"; if (v == "missed" && r + 0 <= t) r = sprintf("%.3f", x) }
    print r, v }')"
  case $t in
    met) t="≤ $target: met" ;;
    missed) t="≤ $target: **missed**" ;;
  esac
  rows+=("| $what | $(cell "$s" "$se" "$unit") | $peer: $(cell "$p" "$pe" "$unit") | $r | $t |")
}
bdn_row() { # WHAT METHOD PROCS PEER_NAME PEER_METHOD PEER_PROCS TARGET
  local a b
  read -r -a a <<< "$(bdn "$2" "$3")"; read -r -a b <<< "$(bdn "$5" "$6")"
  row "$1" "${a[0]:-}" "${a[1]:-}" "$4" "${b[0]:-}" "${b[1]:-}" ns "${7:-}"
}
bdn_go_row() { # WHAT METHOD PROCS GO_NAME TARGET
  local a
  read -r -a a <<< "$(bdn "$2" "$3")"
  row "$1" "${a[0]:-}" "${a[1]:-}" Go "$(fig "$build/bench-go.txt" "$4" 1)" "" ns "${5:-}"
}
go_at() { fig "$build/bench-go.txt" "$1" "$2"; }

# ---- switches
row "coroutine switch (Google Benchmark, CPU time)" "$(gbench BM_SpindleSwitch)" "" \
  boost.context "$(gbench BM_BoostContextSwitch)" "" ns
row "instructions per switch, API path (callgrind)" "$(callgrind "spindle API path")" "" \
  "boost.context" "$(callgrind "boost.context program path")" "" instructions
row "instructions per switch, the switch routine alone" "$(callgrind "sp_switch alone")" "" \
  "jump_fcontext" "$(callgrind "jump_fcontext alone")" "" instructions
bdn_go_row "yield switch, native goroutines, GOMAXPROCS=1" SpindleYieldSwitch "" go_yield_switch
# ---- spawn
for p in 1 2; do
  read -r -a s <<< "$(bdn SpindleSpawnComplete $p)"
  row "spawn + complete, native goroutines, GOMAXPROCS=$p" "${s[0]:-}" "${s[1]:-}" Go "$(go_at go_spawn_complete $p)" "" ns
  bdn_row "spawn + complete, native goroutines, GOMAXPROCS=$p" SpindleSpawnComplete $p "Task.Run" TaskRunSpawnComplete $p 1.0
  bdn_row "spawn + complete, managed goroutines (Go(async () => ...)), GOMAXPROCS=$p" SpindleManagedSpawnComplete $p \
    "Task.Run" TaskRunSpawnComplete $p 1.0
done
# ---- channels (all GOMAXPROCS=1, as Go's)
bdn_go_row "channel ping-pong round trip, native goroutines" SpindleChanPingPong "" go_chan_pingpong
read -r -a s <<< "$(bdn SpindleChanPingPong)"
row "channel ping-pong round trip, native goroutines" "${s[0]:-}" "${s[1]:-}" "OS threads (futex hand-off)" \
  "$(fig "$build/bench-go.txt" thread_pingpong 1)" "" ns 0.1
bdn_row "channel ping-pong round trip, native goroutines" SpindleChanPingPong "" ".NET async channels" DotNetAsyncChannelPingPong "" 0.2
bdn_row "channel ping-pong round trip, managed goroutines (Chan<long>)" SpindleManagedChanPingPong "" \
  ".NET async channels" DotNetAsyncChannelPingPong "" 0.5
bdn_go_row "channel ping-pong round trip, managed goroutines (Chan<long>)" SpindleManagedChanPingPong "" go_chan_pingpong 1.0
bdn_row "channel ping-pong round trip, managed goroutines (Chan<long>)" SpindleManagedChanPingPong "" \
  "await and resume alone (AwaitFloor, one thread)" AwaitFloorPingPong ""
bdn_go_row "select ping-pong round trip (two-case selects), native goroutines" SpindleSelectPingPong "" go_select_pingpong 0.5
bdn_go_row "select ping-pong round trip (two-case selects), managed goroutines" SpindleManagedSelectPingPong "" go_select_pingpong
bdn_go_row "ring of 10,000 goroutines, per hop" SpindleChanRing "" go_chan_ring
bdn_go_row "concurrent prime sieve to the 5,000th prime" SpindleSieve "" go_sieve
# ---- stacks
for n in 100000 1000000; do
  row "resident bytes per goroutine parked in a receive, $n goroutines, GOMAXPROCS=2" \
    "$(fig "$build/bench-segments.txt" park_segmented $n)" "" Go "$(fig "$build/bench-segments.txt" go_park $n)" "" B 1.0
done
row "resident bytes per parked goroutine, segmented against reserved stacks, 100000 goroutines" \
  "$(fig "$build/bench-segments.txt" park_segmented 100000)" "" "reserved stacks" \
  "$(fig "$build/bench-segments.txt" park_reserved 100000)" "" B
row "a call in a loop, segmented stack" "$(seg call_in_loop_segmented_ns)" "" "reserved stack" "$(seg call_in_loop_reserved_ns)" "" ns
row "coroutine create + run + destroy, segmented stack" "$(seg create_run_destroy_segmented_ns)" "" \
  "reserved stack" "$(seg create_run_destroy_reserved_ns)" "" ns

# ---- what tracing costs (bench/tracing.sh: medians of alternating runs, GOMAXPROCS=1)
row "instructions per yield switch, tracer compiled in, no session (callgrind)" \
  "$(engine yield "tracer compiled in" | awk '{ print $1 / 2 }')" "" "tracer compiled out" \
  "$(engine yield "tracer compiled out" | awk '{ print $1 / 2 }')" "" instructions 1.01
row "instructions per channel ping-pong round trip, tracer compiled in, no session (callgrind)" \
  "$(engine pingpong "tracer compiled in")" "" "tracer compiled out" "$(engine pingpong "tracer compiled out")" "" \
  instructions 1.01
row "yield switch, tracer compiled in, no session" "$(trc yield off)" "" "tracer compiled out" "$(trc yield out)" "" ns 1.01
row "channel ping-pong round trip, tracer compiled in, no session" "$(trc pingpong off)" "" \
  "tracer compiled out" "$(trc pingpong out)" "" ns 1.01
row "yield switch, switch trace streamed by spindle trace record ($(trc yield_traced on 5) records dropped)" \
  "$(trc yield_traced on)" "" "no session" "$(trc yield_traced off)" "" ns 1.5
row "ring of 10,000 goroutines, per hop, switch trace streamed ($(trc ring_traced on 5) records dropped)" \
  "$(trc ring_traced on)" "" "no session" "$(trc ring_traced off)" "" ns 1.05
row "concurrent prime sieve to the 1,000th prime, switch trace streamed ($(trc sieve_traced on 5) records dropped)" \
  "$(trc sieve_traced on)" "" "no session" "$(trc sieve_traced off)" "" ms 1.05
row "yield switch, Spindle.Runtime meter read by dotnet-counters every second" "$(trc yield_metered meter)" "" \
  "no listener" "$(trc yield_metered off)" "" ns 1.01
row "channel ping-pong round trip, Spindle.Runtime meter read by dotnet-counters every second" \
  "$(trc pingpong_metered meter)" "" "no listener" "$(trc pingpong_metered off)" "" ns 1.01

# ---- spindle versus: the article's build on 1 and 2 processors, parked units
for who in native managed; do
  row "CPU-bound build at 2 processors against 1 (1 / speed-up), $who goroutines" \
    "$(versus resources $who timeN)" "" "the same at 1 processor" "$(versus resources $who time1)" "" ms 0.526
done
row "CPU-bound build at 2 processors, native goroutines" "$(versus resources native timeN)" "" \
  Go "$(versus resources go timeN)" "" ms
row "resident bytes per parked unit, 10,000 units, native goroutines" "$(versus stacks native park10k)" "" \
  "OS threads" "$(versus stacks threads park10k)" "" B 0.1
row "resident bytes per parked unit, 10,000 units, native goroutines" "$(versus stacks native park10k)" "" \
  ".NET Tasks (awaiting)" "$(versus stacks tasks park10k)" "" B
row "resident bytes per parked unit, 10,000 units, managed goroutines" "$(versus stacks managed park10k)" "" \
  ".NET Tasks (awaiting)" "$(versus stacks tasks park10k)" "" B

if [ "$missing" -ne 0 ]; then
  echo "results: $missing figure(s) missing: docs/results.md not written" >&2
  exit 1
fi

cpu=$(awk -F: '/^model name/ { gsub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
{
  echo "# Results"
  echo
  echo "Written by \`./build.sh bench\` (bench/results.sh) on $(date -u +%Y-%m-%d) on this machine:"
  echo "${cpu:-unknown processor}, $(nproc) processors, $(uname -sr);"
  echo ".NET $(dotnet --version 2>/dev/null || echo '?'), $( (go version 2>/dev/null || echo 'Go ?') | awk '{ print $3 }'), $(gcc -dumpfullversion 2>/dev/null | sed 's/^/gcc /')."
  echo
  echo "Each figure sits beside its peer, measured in the same run, one after the other. The"
  echo "ratio is Spindle's figure over the peer's: below 1, Spindle is ahead. Targets are the"
  echo "project's own aims for that ratio. BenchmarkDotNet figures whose 99.9% confidence"
  echo "half-interval exceeds a quarter of the mean are marked noisy: the machine is shared,"
  echo "so compare ratios, and run \`./build.sh bench\` again before trusting one figure."
  echo
  echo "| What | Spindle | Peer | Ratio | Target |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Sources: BenchmarkDotNet (bench/Spindle.Benchmarks), Google Benchmark and callgrind"
  echo "(native/bench), the Go programs (bench/go, GOMAXPROCS as in each row), an OS-thread"
  echo "ping-pong (native/bench/thread_pingpong.c), the parked-memory programs (bench/segments.sh),"
  echo "\`spindle versus\` (its full run: the CPU-bound build and parked units; docs/versus.md), and the"
  echo "tracing comparisons (bench/tracing.sh: each \`spindle demo\` workload in two variants, alternately,"
  echo "seven rounds, the median of each; the demos time their workload alone)."
} > "$out"
cat "$out"
