#!/bin/sh
# Checks that the coroutine calls that switch end in a jump to the switch
# routine, not a call: a call and its ret around the switch leave the
# return-stack predictor wrong on both sides (measured: 17 against 7 ns a
# switch, when a valgrind request's argument block on the stack cost
# sp_coro_resume its tail call). x86-64 builds of libspindle.
set -u
objdump=$1 library=$2
fail=0
listing=$("$objdump" -d --no-show-raw-insn "$library")
for fn in sp_coro_resume sp_coro_yield sp_coro_request sp_coro_suspend; do
  body=$(printf '%s\n' "$listing" | awk -v f="<$fn>:" '$2 == f { on = 1; next } on && /^$/ { exit } on')
  if [ -z "$body" ]; then
    echo "FAIL: no $fn in $library"; fail=1; continue
  fi
  if printf '%s\n' "$body" | grep -q 'call.*<sp_switch'; then
    echo "FAIL: $fn calls sp_switch instead of jumping to it"; fail=1
  elif ! printf '%s\n' "$body" | grep -q 'jmp.*<sp_switch'; then
    echo "FAIL: $fn does not jump to sp_switch"; fail=1
  else
    echo "$fn ends in a jump to sp_switch"
  fi
done
exit $fail
