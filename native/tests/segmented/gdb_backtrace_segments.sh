#!/bin/sh
# Stops test_segmented (mode bt) 500 frames deep on 2 KiB segments: the checks
# of ../gdb_backtrace.sh (every frame to the trampoline, no complaint), and the
# walk must cross the segment boundaries (the __morestack frames).
set -u
gdb=$1 target=$2
out=$("$(dirname "$0")/../gdb_backtrace.sh" "$gdb" seg_bt_bottom "seg_bt_bottom seg_bt_entry" \
      "$target" bt)
fail=$?
frames=$(printf '%s\n' "$out" | grep -E '^#[0-9]+ ')
printf '%s\n' "$out" | grep -vE '^#[0-9]+ '
descend=$(printf '%s\n' "$frames" | grep -c ' seg_bt_descend ')
boundaries=$(printf '%s\n' "$frames" | grep -c ' __morestack ')
echo "frames of seg_bt_descend: $descend, segment boundaries crossed: $boundaries"
# 501 recursive frames; each boundary shows the function once more (its
# prologue on the old segment) next to the __morestack frame.
[ "$descend" -ge 501 ] || { echo "MISSING recursive frames"; fail=1; }
[ "$boundaries" -ge 20 ] || { echo "TOO FEW segment boundaries"; fail=1; }
exit $fail
