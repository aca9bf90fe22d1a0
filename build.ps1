# Spindle's entry point on Windows (build.sh is the Linux one).
#
#   ./build.ps1 build   configure and build (native Win64)
#   ./build.ps1 test    build and run the CTest suite; ends with "N passed, N failed"
#   ./build.ps1 demo    build and run the demo
#   ./build.ps1 bench   build and run the native benchmarks (needs Google Benchmark
#                       and boost.context where CMake can find them)
#
# The assembly is GNU syntax, so the compiler must be gcc (MinGW-w64, e.g. from
# MSYS2) or clang; MSVC's cl cannot assemble it. Needs cmake and ninja on PATH.
# Not run on this project's CI machines, which test the Win64 build under wine
# through build.sh; see the README.
param([ValidateSet('build', 'test', 'demo', 'bench')][string]$Verb = 'build')
$ErrorActionPreference = 'Stop'
$Root = $PSScriptRoot
$Build = Join-Path $Root 'build'

function Find-Compiler {
    foreach ($cc in 'gcc', 'clang') {
        if (Get-Command $cc -ErrorAction SilentlyContinue) { return $cc }
    }
    throw 'Spindle needs gcc (MinGW-w64) or clang on PATH: its assembly is GNU syntax.'
}

function Invoke-Build([string]$Name, [string[]]$CMakeArgs) {
    $cc = Find-Compiler
    $dir = Join-Path $Build $Name
    cmake -S $Root -B $dir -G Ninja "-DCMAKE_C_COMPILER=$cc" "-DCMAKE_ASM_COMPILER=$cc" @CMakeArgs
    if ($LASTEXITCODE) { throw "configuring $Name failed" }
    cmake --build $dir
    if ($LASTEXITCODE) { throw "building $Name failed" }
    return $dir
}

switch ($Verb) {
    'build' { Invoke-Build 'native' @() | Out-Null }
    'test' {
        $dir = Invoke-Build 'native' @()
        Push-Location $dir
        $out = ctest --output-on-failure --timeout 600 2>&1 | Out-String
        Pop-Location
        Write-Host $out
        if ($out -match '(\d+) tests failed out of (\d+)') {
            $failed = [int]$Matches[1]; $passed = [int]$Matches[2] - $failed
        } else { $failed = 1; $passed = 0 }
        Write-Host "$passed passed, $failed failed"
        if ($failed) { exit 1 }
    }
    'demo' {
        $dir = Invoke-Build 'native' @()
        & (Join-Path $dir 'bin/generators.exe')
    }
    'bench' {
        $dir = Invoke-Build 'bench' @('-DSPINDLE_BUILD_BENCH=ON', '-DSPINDLE_BUILD_TESTS=OFF', '-DCMAKE_BUILD_TYPE=Release')
        & (Join-Path $dir 'bin/switch_bench.exe') --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
    }
}
