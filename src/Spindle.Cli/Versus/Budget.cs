namespace Spindle.Cli.Versus;

/// <summary>How long each timed measurement runs: a run is grown until it lasts at least
/// Target, then repeated Runs times, and the best run counts (the least disturbed by
/// everything else the machine does, as Go's benchmarks and bench/go do).</summary>
/// <param name="Target">The least a run lasts.</param>
/// <param name="Runs">Runs at that size.</param>
/// <param name="Samples">Messages of the latency measurement.</param>
/// <param name="CpuJob">The time one CPU-bound job takes on one processor.</param>
internal sealed record Budget(TimeSpan Target, int Runs, int Samples, TimeSpan CpuJob)
{
    public static readonly Budget Quick = new(TimeSpan.FromMilliseconds(25), 3, 20_000, TimeSpan.FromMilliseconds(3));
    public static readonly Budget Full = new(TimeSpan.FromMilliseconds(200), 5, 200_000, TimeSpan.FromMilliseconds(15));
}
