using BenchmarkDotNet.Attributes;
using Spindle;

namespace Spindle.Benchmarks;

/// <summary>Goroutine switch and spawn costs, per operation, side by side with .NET's
/// Task.Run; bench/run.sh runs the same work in Go and prints the ratios.</summary>
// In process: BenchmarkDotNet's generated project would search the repository,
// where build/wineprefix links to the whole file system.
[InProcess]
[WarmupCount(2)]
[IterationCount(5)]
public class GoroutineBenchmarks
{
    private const int Rounds = 1_000_000;  // yields per goroutine: 2,000,000 switches
    private const int Count = 1_000_000;   // goroutines spawned
    private nint _yieldPair, _spawn;

    [Params(1, 2)]
    public int MaxProcs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _yieldPair = BenchPrograms.Get("bench_yield_pair");
        _spawn = BenchPrograms.Get("bench_spawn");
    }

    /// <summary>One switch between two native goroutines yielding on one P.</summary>
    [Benchmark(OperationsPerInvoke = 2 * Rounds)]
    public void SpindleYieldSwitch()
    {
        if (MaxProcs != 1)
            return; // measured on one P, as Go's is
        Runtime.Run(_yieldPair, Rounds, maxProcs: 1);
    }

    /// <summary>Start a native goroutine that does nothing, and see it finish.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    public void SpindleSpawnComplete() => Runtime.Run(_spawn, Count, MaxProcs);

    /// <summary>The .NET peer: Task.Run of an empty body, and see it finish.</summary>
    [Benchmark(OperationsPerInvoke = Count, Baseline = true)]
    public void TaskRunSpawnComplete()
    {
        int left = Count;
        using var done = new ManualResetEventSlim();
        for (int i = 0; i < Count; i++)
            Task.Run(() =>
            {
                if (Interlocked.Decrement(ref left) == 0)
                    done.Set();
            });
        done.Wait();
    }
}
