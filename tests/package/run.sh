#!/usr/bin/env bash
# The package suite: Spindle as its users get it, from artifacts/packages and from a
# CMake install, in a scratch folder outside the repository (so no setting or file of
# the build tree leaks in). Ends with "N passed, N failed".
#
#   tests/package/run.sh ROOT BUILD PACKAGES
#
#  - a console app restores Spindle from PACKAGES alone, with its own NUGET_PACKAGES,
#    and runs goroutines, channels and select; the runtime's check of libspindle's
#    version and SPINDLE_NATIVE_PATH;
#  - the spindle tool installs from PACKAGES into a tool path and runs there: a demo,
#    --version, --help, a bad option, progress on a terminal only;
#  - C without CMake: a goroutine module built in one step with nothing but
#    `pkg-config --cflags --libs spindle-goroutine` from an install of BUILD/native runs
#    under the tool on segmented stacks, a thread included;
#  - modules built the wrong way get their one-line answers: libgcc's __morestack,
#    GNU ld, no -lspindle.
set -uo pipefail

ROOT=$1 BUILD=$2 PACKAGES=$3
VERSION=$(tr -d '[:space:]' < "$ROOT/VERSION")
WORK=$(mktemp -d /tmp/spindle-package.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export NUGET_PACKAGES=$WORK/nuget-packages DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
unset SPINDLE_NATIVE_PATH SPINDLE_STACKS

PASSED=0 FAILED=0
pass() { echo "    ok: $1"; PASSED=$((PASSED + 1)); }
fail() { # name, details...
  echo "    FAILED: $1"; shift
  printf '%s\n' "$@" | sed 's/^/      | /' | head -40
  FAILED=$((FAILED + 1))
}
# capture CMD...: runs it; OUT, ERR and CODE hold what it printed and its exit code.
capture() {
  OUT=$("$@" 2> "$WORK/stderr"); CODE=$?
  ERR=$(cat "$WORK/stderr")
}
# expect NAME CODE [OUT-PATTERN [ERR-TEXT]]: the last capture exited CODE, its stdout
# matches the extended regex OUT-PATTERN, and its stderr is exactly ERR-TEXT.
expect() {
  local name=$1 code=$2 out=${3-} err=${4-}
  if [ "$CODE" -ne "$code" ]; then
    fail "$name" "exit code $CODE, expected $code" "stdout: $OUT" "stderr: $ERR"
  elif [ -n "$out" ] && ! grep -Eq -- "$out" <<< "$OUT"; then
    fail "$name" "stdout does not match: $out" "stdout: $OUT" "stderr: $ERR"
  elif [ "$#" -ge 4 ] && [ "$ERR" != "$err" ]; then
    fail "$name" "stderr is not what was expected" "expected: $err" "got:      $ERR"
  else
    pass "$name"
  fi
}

cat > "$WORK/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="spindle" value="$PACKAGES" />
  </packageSources>
</configuration>
EOF

# --- the package, as `dotnet add package Spindle` gives it ---------------------------
cp -r "$ROOT/tests/package/Consumer" "$WORK/consumer"
cp "$WORK/nuget.config" "$WORK/consumer/"
capture dotnet build "$WORK/consumer" -c Release -p:SpindleVersion="$VERSION" -o "$WORK/consumer/out"
if [ "$CODE" -ne 0 ]; then
  fail "consumer restores Spindle $VERSION from the package folder and builds" "$(grep -E 'error' <<< "$OUT" | head -20)"
else
  pass "consumer restores Spindle $VERSION from the package folder and builds"
  restored=$(find "$NUGET_PACKAGES/spindle/$VERSION" -name libspindle.so -path '*linux-x64*' | head -1)
  capture dotnet "$WORK/consumer/out/Consumer.dll"
  expected_sum=$(awk 'BEGIN { for (i = 1; i <= 1000; i++) s += i * i; printf "%d", s }')
  expected_select=$(awk 'BEGIN { for (v = 1; v < 11; v++) s += v + v + 1000; printf "%d", s }')
  expect "goroutines, a channel and a wait group: the sum of squares" 0 "^sum of squares 1\.\.1000: $expected_sum$" ""
  expect "select over two channels until both close" 0 "^select received: $expected_select$" ""
  expect "the runtime loaded the package's libspindle $VERSION" 0 "^libspindle $VERSION$" ""
  [ -n "$restored" ] && pass "the package carries runtimes/linux-x64/native/libspindle.so" ||
    fail "the package carries runtimes/linux-x64/native/libspindle.so" "not under $NUGET_PACKAGES/spindle/$VERSION"
  for rid_file in linux-arm64/native/libspindle.so win-x64/native/spindle.dll; do
    if [ -f "$NUGET_PACKAGES/spindle/$VERSION/runtimes/$rid_file" ]; then pass "the package carries runtimes/$rid_file"
    else fail "the package carries runtimes/$rid_file" "missing from the restored package"; fi
  done

  mkdir -p "$WORK/other"
  cc -shared -fPIC "$ROOT/native/tests/package/fake_libspindle.c" -o "$WORK/other/libspindle.so"
  SPINDLE_NATIVE_PATH=$WORK/other capture dotnet "$WORK/consumer/out/Consumer.dll"
  message="spindle: Spindle $VERSION needs libspindle $VERSION, but $WORK/other/libspindle.so is libspindle 0.0.0-other: use the libspindle of the same release (the Spindle $VERSION package carries it), or point SPINDLE_NATIVE_PATH at a $VERSION build"
  if [ "$CODE" -ne 0 ] && grep -qF -- "$message" <<< "$ERR"; then pass "a libspindle of another release is refused, naming both"
  else fail "a libspindle of another release is refused, naming both" "exit $CODE" "stderr: $ERR"; fi
  SPINDLE_NATIVE_PATH=$WORK/nothing-here capture dotnet "$WORK/consumer/out/Consumer.dll"
  message="spindle: SPINDLE_NATIVE_PATH is '$WORK/nothing-here', and there is no such file: point it at a libspindle $VERSION build (a file or its folder), or unset it to use the one the package ships"
  if [ "$CODE" -ne 0 ] && grep -qF -- "$message" <<< "$ERR"; then pass "SPINDLE_NATIVE_PATH naming nothing says so"
  else fail "SPINDLE_NATIVE_PATH naming nothing says so" "exit $CODE" "stderr: $ERR"; fi
  SPINDLE_NATIVE_PATH=$BUILD/native/bin capture dotnet "$WORK/consumer/out/Consumer.dll"
  expect "SPINDLE_NATIVE_PATH points the runtime at another build (a folder)" 0 "^sum of squares 1\.\.1000: $expected_sum$" ""
fi

# --- the spindle tool -----------------------------------------------------------------
capture dotnet tool install Spindle.Cli --version "$VERSION" --tool-path "$WORK/tools" \
  --add-source "$PACKAGES" --configfile "$WORK/nuget.config"
expect "dotnet tool install Spindle.Cli --add-source artifacts/packages" 0
SPINDLE=$WORK/tools/spindle
capture "$SPINDLE" --version
expect "spindle --version" 0 "^$VERSION$" ""
capture "$SPINDLE" --help
expect "spindle --help documents the exit codes" 0 "Exit codes: 0 success; 1 bad usage" ""
capture "$SPINDLE" demo park --help
expect "spindle demo park --help" 0 "spindle demo park \[<GOROUTINES>\] \[options\]" ""
capture "$SPINDLE" demo ring 1000 --maxprocs 0
expect "a bad option: one line and where to look, exit 1" 1 "^$" \
  "spindle: --maxprocs needs a positive number, not '0'
Try 'spindle demo ring --help'."
capture "$SPINDLE" demo ring 1000 --maxprocs 2
expect "spindle demo ring from the tool path" 0 "^1000 goroutines, token passed [0-9]+ times in" ""
# On a terminal (script(1) gives it one; it needs a standard input, even an empty one)
# the demo draws a progress line on stderr; redirected, it does not.
capture script -qec "$SPINDLE demo ring 1000 --maxprocs 1" /dev/null < /dev/null
expect "progress on stderr when it is a terminal" 0 "spindle demo ring: [0-9.]+ s, [0-9,]+ MiB resident"
capture "$SPINDLE" demo ring 1000 --maxprocs 1
expect "no progress when stderr is not a terminal" 0 "token passed" ""

# --- C without CMake: pkg-config ----------------------------------------------------
prefix=$WORK/prefix
if ! cmake --install "$BUILD/native" --prefix "$prefix" > "$WORK/install.log" 2>&1; then
  fail "cmake --install of build/native" "$(tail -5 "$WORK/install.log")"
else
  PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name spindle.pc | head -1)")
  export PKG_CONFIG_PATH
  capture pkg-config --modversion spindle-goroutine
  expect "pkg-config finds spindle-goroutine $VERSION in the install" 0 "^$VERSION$" ""
  segmented=$("$SPINDLE" version --json | grep -q '"segmentedStacks":true' && echo yes)
  # shellcheck disable=SC2046 # the flags are words
  if ! cc -shared -fPIC "$ROOT/native/tests/package/consumer_module.c" \
         $(pkg-config --cflags --libs spindle-goroutine) -o "$WORK/libconsumer.so" 2> "$WORK/cc.log"; then
    fail "a goroutine module builds in one step from pkg-config --cflags --libs spindle-goroutine" "$(cat "$WORK/cc.log")"
  else
    pass "a goroutine module builds in one step from pkg-config --cflags --libs spindle-goroutine"
    sum=$(awk 'BEGIN { for (i = 1; i <= 300; i++) s += i; printf "%d", s }')
    kind=reserved; [ "$segmented" = yes ] && kind=segmented
    capture "$SPINDLE" run "$WORK/libconsumer.so" --maxprocs 2
    expect "spindle run: it runs, no warning" 0 "^all 4 goroutines done, total $((4 * sum))$" ""
    n=$(grep -Ec "^goroutine [1-4]: $kind stack, sum $sum$" <<< "$OUT")
    [ "$n" -eq 4 ] && pass "its 4 goroutines ran on $kind stacks, 40 KiB deep" ||
      fail "its 4 goroutines ran on $kind stacks, 40 KiB deep" "$OUT"
    grep -qx "thread ran: 1" <<< "$OUT" && pass "its pthread_create links in one step (--wrap=pthread_create)" ||
      fail "its pthread_create links in one step (--wrap=pthread_create)" "$OUT"
  fi

  # The wrong ways. Plain flags (spindle.pc) and -fsplit-stack by hand.
  # shellcheck disable=SC2046
  plain() { cc -shared -fPIC "$@" $(pkg-config --cflags --libs spindle); }
  if [ "$segmented" = yes ]; then
    plain -fsplit-stack "$ROOT/native/tests/package/consumer_module.c" -o "$WORK/libgcc_morestack.so"
    capture "$SPINDLE" run "$WORK/libgcc_morestack.so" --maxprocs 2
    expect "plain gcc -fsplit-stack (libgcc's __morestack): reserved stacks and why" 0 \
      "^all 4 goroutines done" \
      "spindle: libgcc_morestack.so was built with -fsplit-stack but linked with another __morestack than Spindle's (libgcc's): its goroutines run on reserved stacks; for 2 KiB segmented stacks, link it with \$(pkg-config --libs spindle-goroutine) after its sources, or build it with spindle_add_goroutine_library"
    n=$(grep -Ec "^goroutine [1-4]: reserved stack" <<< "$OUT")
    [ "$n" -eq 4 ] && pass "...and its goroutines never start on a segment" ||
      fail "...and its goroutines never start on a segment" "$OUT"
    capture "$SPINDLE" run "$WORK/libgcc_morestack.so" --stacks segmented
    expect "...and --stacks segmented is refused with the cause" 1 "^$" \
      "spindle: libgcc_morestack.so was built with -fsplit-stack but linked with another __morestack than Spindle's (libgcc's), so --stacks segmented cannot be honoured (SP_ENOTSPLIT); link it with \$(pkg-config --libs spindle-goroutine) after its sources, or build it with spindle_add_goroutine_library"
    archive=$(find "$prefix" -name libspindle_morestack.a | head -1)
    plain -fsplit-stack -DSPINDLE_SPLIT_STACK -Wl,-z,now "$ROOT/native/tests/package/consumer_module.c" "$archive" \
      -o "$WORK/gnu_ld.so"
    capture "$SPINDLE" run "$WORK/gnu_ld.so" --maxprocs 2
    expect "Spindle's __morestack but GNU ld: reserved stacks and why" 0 "^all 4 goroutines done" \
      "spindle: gnu_ld.so was built with -fsplit-stack and Spindle's __morestack but linked by GNU ld, which gives calls into libc no extra room: its goroutines run on reserved stacks; for 2 KiB segmented stacks, link it with \$(pkg-config --libs spindle-goroutine) (gold or lld), or build it with spindle_add_goroutine_library"
  fi
  cc -shared -fPIC "$ROOT/native/tests/package/unlinked_module.c" -I"$prefix/include" -o "$WORK/libunlinked.so"
  capture "$SPINDLE" run "$WORK/libunlinked.so"
  expect "a module not linked with libspindle: one line, the fix, exit 1" 1 "^$" \
    "spindle: libunlinked.so uses libspindle (sp_gosched) but is not linked with it: link it with -lspindle, or with \$(pkg-config --libs spindle)"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
