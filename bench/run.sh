#!/usr/bin/env bash
# Goroutine benchmarks side by side: BenchmarkDotNet (Spindle and .NET Task.Run)
# then the same work in Go, one after the other on this machine, and the ratios.
# Usage: bench/run.sh BUILD_DIR   (BUILD_DIR/native/bin holds the native libraries)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
dotnet run -c Release --project "$root/bench/Spindle.Benchmarks" \
  -p:SpindleNativeDir="$build/native/bin" -- --filter '*' --artifacts "$build/bench-dotnet" \
  > "$build/bench-dotnet.log" 2>&1 || { tail -30 "$build/bench-dotnet.log"; exit 1; }
grep -E '^\| ' "$build/bench-dotnet.log"
if grep -qE '^\| [A-Za-z]+ +\|( 1 +\|)? +NA' "$build/bench-dotnet.log"; then
  grep -iE 'exception|error' "$build/bench-dotnet.log" | head -5
  echo "bench: a benchmark failed (NA above)"; exit 1
fi
(cd "$root/bench/go" && GOFLAGS=-mod=mod go run .) > "$build/bench-go.txt"
if [ -x "$build/bench/bin/thread_pingpong" ]; then # built by ./build.sh bench
  "$build/bench/bin/thread_pingpong" 200000 >> "$build/bench-go.txt"
fi
cat "$build/bench-go.txt"

# Ratios: Spindle's mean over the peer's, per GOMAXPROCS.
mean() { # method procs -> ns
  awk -F'|' -v m="$1" -v p="$2" '$2 ~ m && $3+0 == p { gsub(/[ ,ns]/, "", $4); print $4 }' \
    "$build/bench-dotnet.log" | head -1
}
chan_mean() { # method -> ns (ChannelBenchmarks reports in ns, one column fewer)
  awk -F'|' -v m="$1" '{ name = $2; gsub(/ /, "", name) } name == m { gsub(/[ ,ns]/, "", $3); print $3 }' \
    "$build/bench-dotnet.log" | head -1
}
go_ns() { awk -v n="$1" -v p="$2" '$1 == n && $2 == p { print $3 }' "$build/bench-go.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "ratios (Spindle / peer, lower is better):"
y=$(chan_mean SpindleYieldSwitch); gy=$(go_ns go_yield_switch 1)
echo "  yield switch, GOMAXPROCS=1: Spindle $y ns / Go $gy ns = $(ratio "$y" "$gy")"
for p in 1 2; do
  s=$(mean SpindleSpawnComplete $p); t=$(mean TaskRunSpawnComplete $p); g=$(go_ns go_spawn_complete $p)
  echo "  spawn+complete, GOMAXPROCS=$p: Spindle $s ns / Go $g ns = $(ratio "$s" "$g"); / Task.Run $t ns = $(ratio "$s" "$t")"
  ms=$(mean SpindleManagedSpawnComplete $p)
  echo "    (managed goroutines, Go(async () => ...): $ms ns = $(ratio "$ms" "$t") x Task.Run)"
done
c=$(chan_mean SpindleChanPingPong); m=$(chan_mean SpindleManagedChanPingPong); d=$(chan_mean DotNetAsyncChannelPingPong)
gc=$(go_ns go_chan_pingpong 1); th=$(go_ns thread_pingpong 1)
echo "  channel ping-pong round trip, GOMAXPROCS=1: Spindle $c ns / Go $gc ns = $(ratio "$c" "$gc"); / OS threads $th ns = $(ratio "$c" "$th"); / .NET async channels $d ns = $(ratio "$c" "$d")"
echo "    (managed goroutines on Spindle channels: $m ns = $(ratio "$m" "$d") x .NET async channels, $(ratio "$m" "$gc") x Go)"
sp=$(chan_mean SpindleSelectPingPong); gsp=$(go_ns go_select_pingpong 1)
echo "  select ping-pong round trip (two-case selects), GOMAXPROCS=1: Spindle $sp ns / Go $gsp ns = $(ratio "$sp" "$gsp")"
r=$(chan_mean SpindleChanRing); gr=$(go_ns go_chan_ring 1)
echo "  ring of 10,000, per hop, GOMAXPROCS=1: Spindle $r ns / Go $gr ns = $(ratio "$r" "$gr")"
sv=$(chan_mean SpindleSieve); gs=$(go_ns go_sieve 1)
echo "  sieve to 5,000 primes, GOMAXPROCS=1: Spindle $sv ns / Go $gs ns = $(ratio "$sv" "$gs")"
