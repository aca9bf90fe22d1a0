#!/usr/bin/env bash
# Spindle's entry point on Linux (build.ps1 is the Windows one).
#
#   ./build.sh deps    install what is missing (Debian/Ubuntu packages)
#   ./build.sh build   configure and build every tree
#   ./build.sh test    build, run every suite, end with "N passed, N failed"
#   ./build.sh demo    build and run the demo
#   ./build.sh bench   build and run the benchmarks
#   ./build.sh bindings  regenerate src/Spindle.Interop from native/include/spindle.h
#   ./build.sh pack    build the trees and write the Spindle package and the spindle
#                      tool (Spindle.Cli) to artifacts/packages
#
# Trees under build/: native (plus valgrind memcheck of its tests), asan,
# tsan, aarch64 (tests under qemu-user) and win64 (mingw-w64, tests under
# wine); the managed runtime builds with dotnet against build/native.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")" && pwd)
BUILD=$ROOT/build
PACKAGES=$ROOT/artifacts/packages
JOBS=$(nproc 2>/dev/null || echo 2)

TEST_PACKAGES=(cmake make gcc g++ binutils gdb valgrind libc6-dev pkg-config
               qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
               mingw-w64 wine wine64 chromium)
# The diagnostics tools the tracing tests drive, into build/tools.
DIAG_TOOLS=(dotnet-trace dotnet-counters)
DIAG_TOOLS_VERSION=10.0.750501
BENCH_PACKAGES=(libbenchmark-dev libboost-context-dev valgrind golang-go python3)

log() { printf '==> %s\n' "$*"; }

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

install_packages() {
  command -v dpkg-query >/dev/null || { log "not a Debian system: install $* yourself"; return 0; }
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  local sudo=
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  log "installing: $(echo $missing)"
  $sudo apt-get update -qq || return 1
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing \
    > "$BUILD/apt.log" 2>&1 || { cat "$BUILD/apt.log"; return 1; }
}

configure_and_build() { # name, cmake args...
  local name=$1; shift
  log "building $name"
  cmake -S "$ROOT" -B "$BUILD/$name" "$@" > "$BUILD/$name.configure.log" 2>&1 ||
    { cat "$BUILD/$name.configure.log"; return 1; }
  cmake --build "$BUILD/$name" -j "$JOBS" > "$BUILD/$name.build.log" 2>&1 ||
    { grep -E 'error|Error' "$BUILD/$name.build.log" | head -40; return 1; }
}

build_native() { configure_and_build native -DSPINDLE_MEMCHECK=ON; }
build_asan()    { configure_and_build asan -DSPINDLE_ASAN=ON -DCMAKE_BUILD_TYPE=Debug; }
build_tsan()    { configure_and_build tsan -DSPINDLE_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo; }
build_aarch64() { configure_and_build aarch64 -DCMAKE_TOOLCHAIN_FILE="$ROOT/native/cmake/aarch64-linux-gnu.cmake"; }
build_win64()   { configure_and_build win64 -DCMAKE_TOOLCHAIN_FILE="$ROOT/native/cmake/x86_64-w64-mingw32.cmake"; }

# wine keeps its state in a prefix of ours; no Mono/Gecko install prompts.
export WINEPREFIX=$BUILD/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="

PASSED=0
FAILED=0

run_suite() { # name: runs CTest in build/name and adds up its results
  local name=$1 out passed failed total
  log "testing $name"
  if [ "$name" = win64 ] && [ ! -d "$WINEPREFIX" ]; then
    timeout 300 wineboot --init > /dev/null 2>&1 || true
  fi
  out=$(cd "$BUILD/$name" && ctest -j "$JOBS" --output-on-failure --timeout 600 2>&1)
  printf '%s\n' "$out" | grep -E '^ *[0-9]+/[0-9]+ Test|tests passed|FAILED|CHECK|fatal' || true
  if [[ $out =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=${BASH_REMATCH[1]}; total=${BASH_REMATCH[2]}
    passed=$((total - failed))
  else
    printf '%s\n' "$out" | tail -20
    passed=0; failed=1
  fi
  [ "$failed" -ne 0 ] && printf '%s\n' "$out" | sed -n '/The following tests FAILED/,$p'
  log "$name: $passed passed, $failed failed"
  PASSED=$((PASSED + passed)); FAILED=$((FAILED + failed))
}

install_diag_tools() {
  command -v dotnet >/dev/null || return 0 # require_dotnet reports it
  local tool
  for tool in "${DIAG_TOOLS[@]}"; do
    [ -x "$BUILD/tools/$tool" ] && continue
    log "installing $tool $DIAG_TOOLS_VERSION into build/tools"
    dotnet tool install "$tool" --version "$DIAG_TOOLS_VERSION" --tool-path "$BUILD/tools" \
      > "$BUILD/tools.log" 2>&1 || { cat "$BUILD/tools.log"; return 1; }
  done
}

cmd_deps()  { mkdir -p "$BUILD"; install_packages "${TEST_PACKAGES[@]}" && install_diag_tools; }

require_dotnet() {
  command -v dotnet >/dev/null || { log "the .NET SDK (dotnet) is required"; return 1; }
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# The bindings: spindle.h's public ones, and spindle_host.h's, internal to
# the managed runtime.
GENERATED=$ROOT/src/Spindle.Interop/SpindleNative.g.cs
GENERATED_HOST=$ROOT/src/Spindle/Interop/SpindleHost.g.cs

build_bindgen() {
  dotnet build "$ROOT/tools/bindgen" -c Release -o "$BUILD/bindgen" > "$BUILD/bindgen.build.log" 2>&1 ||
    { grep -E 'error' "$BUILD/bindgen.build.log" | head -20; return 1; }
}

run_bindgen() { # public output file, host output file
  "$BUILD/bindgen/spindle-bindgen" --header "$ROOT/native/include/spindle.h" --out "$1" &&
  "$BUILD/bindgen/spindle-bindgen" --header "$ROOT/native/include/spindle_host.h" --out "$2" \
    --class SpindleHost --internal
}

# The checked-in bindings must be what the headers generate today.
check_bindings() {
  log "checking the generated bindings against spindle.h and spindle_host.h"
  local fresh=$BUILD/bindings-check
  if build_bindgen && run_bindgen "$fresh/SpindleNative.g.cs" "$fresh/SpindleHost.g.cs" &&
     diff -u "$GENERATED" "$fresh/SpindleNative.g.cs" && diff -u "$GENERATED_HOST" "$fresh/SpindleHost.g.cs"; then
    log "bindings: 1 passed, 0 failed"; PASSED=$((PASSED + 1))
  else
    log "bindings: the generated bindings differ from the headers: run ./build.sh bindings"
    FAILED=$((FAILED + 1))
  fi
}

run_dotnet_tests() {
  log "testing managed runtime (xunit)"
  local out passed failed
  # --blame: if the test host crashes, the output names the test that was running.
  out=$(cd "$ROOT" && timeout 1200 dotnet test tests/Spindle.Tests -c Release --blame \
        -p:SpindleNativeDir="$BUILD/native/bin" --logger "console;verbosity=normal" 2>&1)
  printf '%s\n' "$out" | grep -E '^\s+(Passed|Failed) [A-Z]|error' | sort -u | head -80 || true
  if [[ $out =~ Total\ tests:\ +([0-9]+) ]]; then
    local total=${BASH_REMATCH[1]}
    passed=0
    [[ $out =~ Passed:\ +([0-9]+) ]] && passed=${BASH_REMATCH[1]}
    failed=$((total - passed)) # failed, skipped or lost to a crashed test host
  else
    printf '%s\n' "$out" | tail -30
    passed=0; failed=1
  fi
  [ "$failed" -ne 0 ] && printf '%s\n' "$out" | grep -A12 'Error Message' | head -80
  log "xunit: $passed passed, $failed failed"
  PASSED=$((PASSED + passed)); FAILED=$((FAILED + failed))
}

cmd_build() {
  mkdir -p "$BUILD"
  local ok=0
  build_native || ok=1
  build_asan || ok=1
  build_tsan || ok=1
  build_aarch64 || ok=1
  build_win64 || ok=1
  return $ok
}

cmd_test() {
  cmd_deps || { log "could not install the test dependencies"; echo "0 passed, 1 failed"; exit 1; }
  local tree built=0
  for tree in native asan tsan aarch64 win64; do
    if "build_$tree"; then
      built=$((built + 1))
      run_suite "$tree"
      if [ "$tree" = native ]; then
        if require_dotnet; then
          check_bindings
          run_dotnet_tests
        else
          FAILED=$((FAILED + 1))
        fi
      fi
    else
      log "$tree: build failed"
      FAILED=$((FAILED + 1))
    fi
  done
  if [ "$built" -eq 5 ]; then
    run_package_suite
  else
    log "package: not run (the packages need every tree)"; FAILED=$((FAILED + 1))
  fi
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# The Spindle package (runtime, bindings, libspindle of build/native, build/aarch64 and
# build/win64) and the spindle tool, into artifacts/packages.
pack_packages() {
  require_dotnet || return 1
  rm -rf "$PACKAGES"
  local project
  for project in src/Spindle src/Spindle.Cli; do
    dotnet pack "$ROOT/$project" -c Release -p:SpindleNativeDir="$BUILD/native/bin" \
      > "$BUILD/pack.log" 2>&1 || { grep -E 'error' "$BUILD/pack.log" | sort -u | head -20; return 1; }
  done
}

# The packages as users install them: tests/package/run.sh, after packing.
run_package_suite() {
  log "testing package (artifacts/packages: restore, run, tool install, pkg-config)"
  local out passed failed
  if ! pack_packages; then
    log "package: packing failed"; FAILED=$((FAILED + 1)); return
  fi
  out=$(timeout 1200 "$ROOT/tests/package/run.sh" "$ROOT" "$BUILD" "$PACKAGES" 2>&1)
  printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
  if [[ $out =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed=${BASH_REMATCH[1]}; failed=${BASH_REMATCH[2]}
  else
    passed=0; failed=1
  fi
  log "package: $passed passed, $failed failed"
  PASSED=$((PASSED + passed)); FAILED=$((FAILED + failed))
}

cmd_pack() {
  cmd_deps || exit 1
  build_native && build_aarch64 && build_win64 || exit 1
  pack_packages || exit 1
  log "packages in ${PACKAGES#"$ROOT"/}: $(cd "$PACKAGES" && echo *.nupkg)"
}

build_cli() {
  require_dotnet || return 1
  dotnet build "$ROOT/src/Spindle.Cli" -c Release -o "$BUILD/cli" \
    -p:SpindleNativeDir="$BUILD/native/bin" > "$BUILD/cli.build.log" 2>&1 ||
    { grep -E 'error' "$BUILD/cli.build.log" | head -20; return 1; }
}

cmd_demo() {
  mkdir -p "$BUILD"
  install_packages cmake make gcc g++ valgrind || exit 1
  build_native || exit 1
  log "the native core: coroutines on their own stacks"
  "$BUILD/native/bin/generators"
  build_cli || exit 1
  local spindle=$BUILD/cli/spindle
  log "the runtime: Go's GOMAXPROCS experiment, GOMAXPROCS=1 then 2"
  "$spindle" demo gomaxprocs --maxprocs 1
  "$spindle" demo gomaxprocs --maxprocs 2
  log "a ring of 10,000 goroutines passing a token over channels"
  "$spindle" demo ring --maxprocs 1
  log "the concurrent prime sieve: a goroutine and a channel per prime"
  "$spindle" demo sieve 100 --maxprocs 2
  log "100,000 goroutines parked on 2 KiB segmented stacks (x86-64 Linux)"
  "$spindle" demo park 100000 --maxprocs 2
  log "native goroutines feeding a managed async goroutine over one channel"
  "$spindle" demo pipeline --maxprocs 2
  log "a native program run like 'go run': spindle run build/native/bin/libspindle_hello.so"
  "$spindle" run "$BUILD/native/bin/libspindle_hello.so"
  log "the article's eight differences, measured on this machine: spindle versus --quick"
  "$spindle" versus --quick
}

cmd_bench() {
  mkdir -p "$BUILD"
  install_packages cmake make gcc g++ gdb "${BENCH_PACKAGES[@]}" || exit 1
  configure_and_build bench -DSPINDLE_BUILD_BENCH=ON -DSPINDLE_BUILD_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Release || exit 1
  log "Google Benchmark: Spindle and boost.context side by side (compare ratios)"
  "$BUILD/bench/bin/switch_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true |
    tee "$BUILD/bench-switch.txt" || exit 1
  log "callgrind: instructions per switch"
  "$ROOT/native/bench/callgrind_switch.sh" "$BUILD/bench/bin" | tee "$BUILD/bench-callgrind.txt" || exit 1
  require_dotnet && build_native || exit 1
  log "goroutines: Spindle, Task.Run, .NET channels, OS threads and Go side by side (takes a few minutes)"
  "$ROOT/bench/run.sh" "$BUILD" || { echo "bench: the side-by-side run failed"; exit 1; }
  log "segmented stacks: parked memory against Go and reserved stacks, the hot split"
  "$ROOT/bench/segments.sh" "$BUILD" || { echo "bench: the segmented-stack run failed"; exit 1; }
  build_cli || exit 1
  log "what tracing costs: compiled out, off, streamed, and the meter read (takes a few minutes)"
  configure_and_build notrace -DSPINDLE_TRACE=OFF -DSPINDLE_MEMCHECK=ON -DSPINDLE_BUILD_TESTS=OFF || exit 1
  log "callgrind: what the tracer compiled in costs the engine's own paths, in instructions"
  "$ROOT/native/bench/callgrind_engine.sh" "$BUILD/bench/bin" "tracer compiled in" "$BUILD/native/bin" \
    "tracer compiled out" "$BUILD/notrace/bin" | tee "$BUILD/bench-callgrind-engine.txt" || exit 1
  install_diag_tools || exit 1
  "$ROOT/bench/tracing.sh" "$BUILD" | tee "$BUILD/bench-tracing.txt" ||
    { echo "bench: the tracing comparison failed"; exit 1; }
  log "spindle versus: CPU-bound scaling, and parked memory against threads and Tasks"
  "$BUILD/cli/spindle" versus --json "$BUILD/bench-versus.json" | tee "$BUILD/bench-versus.txt" ||
    { echo "bench: spindle versus failed"; exit 1; }
  log "docs/results.md: every figure beside its peer"
  "$ROOT/bench/results.sh" "$BUILD"
}

cmd_bindings() {
  mkdir -p "$BUILD"
  require_dotnet || exit 1
  build_bindgen && run_bindgen "$GENERATED" "$GENERATED_HOST"
}

case "${1:-build}" in
  deps)  cmd_deps ;;
  build) cmd_build ;;
  test)  cmd_test ;;
  demo)  cmd_demo ;;
  bench) cmd_bench ;;
  bindings) cmd_bindings ;;
  pack)  cmd_pack ;;
  *) echo "usage: $0 {deps|build|test|demo|bench|bindings|pack}" >&2; exit 2 ;;
esac
