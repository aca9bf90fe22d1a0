#!/bin/sh
# Stops test_segmented (mode bt) 500 frames deep on 2 KiB segments and checks
# that gdb's backtrace walks back through every segment boundary (the
# __morestack frames) to the entry trampoline, with no complaint.
set -u
gdb=$1 target=$2
out=$("$gdb" -batch -nx -ex 'set pagination off' -ex 'set breakpoint pending on' -ex 'set backtrace limit 10000' \
      -ex 'break seg_bt_bottom' -ex run -ex bt --args "$target" bt 2>&1)
frames=$(printf '%s\n' "$out" | grep -E '^#[0-9]+ ')
fail=0
descend=$(printf '%s\n' "$frames" | grep -c ' seg_bt_descend ')
boundaries=$(printf '%s\n' "$frames" | grep -c ' __morestack ')
echo "frames of seg_bt_descend: $descend, segment boundaries crossed: $boundaries"
# 501 recursive frames; each boundary shows the function once more (its
# prologue on the old segment) next to the __morestack frame.
[ "$descend" -ge 501 ] || { echo "MISSING recursive frames"; fail=1; }
[ "$boundaries" -ge 20 ] || { echo "TOO FEW segment boundaries"; fail=1; }
for f in seg_bt_bottom seg_bt_entry sp_coro_entry sp_coro_trampoline; do
  printf '%s\n' "$frames" | grep -q " $f " || { echo "MISSING frame: $f"; fail=1; }
done
last=$(printf '%s\n' "$frames" | tail -n 1)
case "$last" in
  *sp_coro_trampoline*) ;;
  *) echo "LAST frame is not the trampoline: $last"; fail=1 ;;
esac
if printf '%s\n' "$out" | grep -qiE 'corrupt|previous frame (identical|inner)'; then
  printf '%s\n' "$out" | grep -iE 'corrupt|previous frame' | head -3
  echo "BACKTRACE complained"; fail=1
fi
[ $fail -eq 0 ] && echo "backtrace crosses the segments and ends at the trampoline"
exit $fail
