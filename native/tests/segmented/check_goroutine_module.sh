#!/bin/sh
# Checks a module built by spindle_add_goroutine_library:
#  - FUNCTION (which calls sp_chan_recv) keeps its split-stack check: its
#    first instruction compares rsp with %fs:0x70; the linker did not turn it
#    into stc (what a direct call into libspindle would cause), so a
#    goroutine parked in sp_chan_recv holds a 2 KiB segment, not 16 KiB;
#  - __morestack is linked in and hidden (not in the dynamic symbol table);
#  - the module carries .note.GNU-split-stack (how Spindle recognises it).
set -u
objdump=$1 readelf=$2 module=$3 function=$4
fail=0
first=$("$objdump" -d --no-show-raw-insn "$module" |
        awk -v f="<$function>:" '$2 == f { getline; print; exit }')
echo "$function starts with: $first"
case "$first" in
  *cmp*%fs:0x70,%rsp*) ;;
  *) echo "FAIL: $function lost its split-stack check"; fail=1 ;;
esac
"$objdump" -d "$module" | grep -q '<__morestack>:' || { echo "FAIL: no __morestack in the module"; fail=1; }
if "$readelf" --dyn-syms -W "$module" | grep -q ' __morestack'; then
  echo "FAIL: __morestack is exported"; fail=1
fi
"$readelf" -S -W "$module" | grep -q '\.note\.GNU-split-stack' ||
  { echo "FAIL: no .note.GNU-split-stack section"; fail=1; }
[ $fail -eq 0 ] && echo "goroutine module is split-stack, with a hidden __morestack and checked prologues"
exit $fail
