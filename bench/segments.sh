#!/usr/bin/env bash
# Segmented stacks, measured side by side (x86-64 Linux):
#   - resident bytes per parked goroutine at 100,000 and 1,000,000 goroutines:
#     Spindle on segments, Spindle on reserved stacks, and the same program in Go;
#   - the hot split: extra cost of a call that crosses a segment boundary, and
#     create+run+destroy of a coroutine on each kind of stack.
# Usage: bench/segments.sh BUILD_DIR   (BUILD_DIR/native/bin holds the native build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
bin="$build/native/bin"
dotnet build "$root/src/Spindle.Cli" -c Release -p:SpindleNativeDir="$bin" \
  > "$build/bench-segments-cli.log" 2>&1 || { tail -20 "$build/bench-segments-cli.log"; exit 1; }
cli="$root/src/Spindle.Cli/bin/Release/net10.0/spindle.dll"
park() { # stacks n -> bytes per goroutine
  dotnet "$cli" demo park "$2" --maxprocs 2 --stacks "$1" |
    awk '/resident bytes each/ { for (i = 1; i <= NF; i++) if ($i == "resident") print $(i - 1) }'
}
go_park() { (cd "$root/bench/go" && GOFLAGS=-mod=mod go run . -park "$1") | awk '{ print $3 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
figures="$build/bench-segments.txt" # "name count value" a line, for bench/results.sh
: > "$figures"

echo "resident bytes per goroutine parked in a channel receive, GOMAXPROCS=2:"
for n in 100000 1000000; do
  s=$(park segmented $n); g=$(go_park $n)
  echo "park_segmented $n $s" >> "$figures"; echo "go_park $n $g" >> "$figures"
  line="  $n goroutines: Spindle segmented $s B / Go $g B = $(ratio "$s" "$g")"
  if [ $n -le 100000 ]; then # a million reserved stacks exceed vm.max_map_count
    r=$(park reserved $n); line="$line; Spindle reserved $r B"
    echo "park_reserved $n $r" >> "$figures"
  fi
  echo "$line"
done
echo
echo "segmented against reserved stacks, same code (native/bench/segments):"
"$bin/segment_bench" 1000000 | tee -a "$figures" | sed 's/^/  /'
