#!/bin/sh
# Instructions per switch, exactly, from valgrind's callgrind: run N and 2N
# round trips, subtract, divide by the 2N extra switches. Counted twice: the
# whole API path (Spindle: sp_coro_resume/sp_coro_yield with their checks;
# boost.context: jump_fcontext from C++), and the switch routine alone
# (sp_switch; jump_fcontext). Usage: callgrind_switch.sh BIN_DIR
set -eu
bin=$1
n=200000
count() { # peer rounds [function] -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null ${3:+--toggle-collect=$3} \
    "$bin/switch_count" "$1" "$2" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_switch() { # peer [function]
  a=$(count "$1" "$n" "${2:-}")
  b=$(count "$1" $((n * 2)) "${2:-}")
  echo $(( (b - a) / (2 * n) ))
}
echo "instructions per switch (callgrind, $n extra round trips):"
echo "  spindle API path (resume/yield): $(per_switch spindle)"
echo "  boost.context program path:      $(per_switch boost)"
echo "  sp_switch alone:                 $(per_switch spindle sp_switch)"
echo "  jump_fcontext alone:             $(per_switch boost jump_fcontext)"
