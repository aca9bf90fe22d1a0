using BenchmarkDotNet.Attributes;
using Spindle;

namespace Spindle.Benchmarks;

/// <summary>Goroutine spawn costs, native and managed, per goroutine, side by side with
/// .NET's Task.Run at 1 and 2 processors; bench/run.sh runs the same work in Go and prints
/// the ratios.</summary>
// In process: BenchmarkDotNet's generated project would search the repository,
// where build/wineprefix links to the whole file system.
[InProcess]
[WarmupCount(2)]
[IterationCount(10)]
[Config(typeof(InNanoseconds))]
public class GoroutineBenchmarks
{
    private const int Count = 1_000_000;   // goroutines spawned
    private nint _spawn;

    [Params(1, 2)]
    public int MaxProcs { get; set; }

    [GlobalSetup]
    public void Setup() => _spawn = BenchPrograms.Get("bench_spawn");

    /// <summary>Start a native goroutine that does nothing, and see it finish.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    public void SpindleSpawnComplete() => Runtime.Run(_spawn, Count, MaxProcs);

    /// <summary>Start a managed goroutine (an async lambda) that does nothing, and see it
    /// finish: Go(async () => ...) from a managed goroutine, in a fresh runtime each time
    /// (every goroutine record and descriptor is new).</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    public void SpindleManagedSpawnComplete()
    {
        Runtime.Run(async () =>
        {
            var wg = new WaitGroup();
            wg.Add(Count);
            for (int i = 0; i < Count; i++)
#pragma warning disable CS1998 // a body that finishes without awaiting, as in Go(async () => ...) ones often do
                Runtime.Go(async () => wg.Done());
#pragma warning restore CS1998
            await wg.WaitAsync();
        }, MaxProcs);
    }

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
