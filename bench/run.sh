#!/usr/bin/env bash
# Goroutine benchmarks side by side: BenchmarkDotNet (Spindle native and managed
# goroutines, .NET Task.Run and async channels), then the same work in Go and with OS
# threads, one after the other on this machine. bench/results.sh turns the logs into
# docs/results.md with the ratios.
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
