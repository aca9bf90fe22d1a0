#!/bin/sh
# Runs bt_target under gdb, stops inside the coroutine, and checks that the
# backtrace walks back through the coroutine's frames and ends cleanly at the
# entry trampoline (no garbage frames, no "corrupt stack" complaint).
set -u
gdb=$1 target=$2
out=$("$gdb" -batch -nx -ex 'set pagination off' -ex 'break bt_probe' -ex run -ex bt "$target" 2>&1)
echo "$out"
frames=$(printf '%s\n' "$out" | grep -E '^#[0-9]+ ')
fail=0
for f in bt_probe bt_level2 bt_level1 sp_coro_entry sp_coro_trampoline; do
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
