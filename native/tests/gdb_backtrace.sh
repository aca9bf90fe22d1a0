#!/bin/sh
# Runs TARGET [ARGS] under gdb, stops at BREAKPOINT inside a coroutine, prints
# the backtrace, and checks that it holds every frame named in FRAMES and ends
# cleanly at the entry trampoline (no garbage frames, no "corrupt stack").
# Usage: gdb_backtrace.sh GDB BREAKPOINT "FRAMES" TARGET [ARGS...]
set -u
gdb=$1 breakpoint=$2 frames_wanted=$3
shift 3
out=$("$gdb" -batch -nx -ex 'set pagination off' -ex 'set breakpoint pending on' \
      -ex 'set backtrace limit 10000' -ex "break $breakpoint" -ex run -ex bt --args "$@" 2>&1)
echo "$out"
frames=$(printf '%s\n' "$out" | grep -E '^#[0-9]+ ')
fail=0
for f in $frames_wanted sp_coro_entry sp_coro_trampoline; do
  printf '%s\n' "$frames" | grep -q " $f " || { echo "MISSING frame: $f"; fail=1; }
done
last=$(printf '%s\n' "$frames" | tail -n 1)
case "$last" in
  *sp_coro_trampoline*) ;;
  *) echo "LAST frame is not the trampoline: $last"; fail=1 ;;
esac
if printf '%s\n' "$out" | grep -qiE 'corrupt|previous frame (identical|inner)'; then
  echo "BACKTRACE complained"; fail=1
fi
[ $fail -eq 0 ] && echo "backtrace ends cleanly at the trampoline"
exit $fail
