using System.Diagnostics;

namespace Spindle.Cli.Versus;

/// <summary>Timing and the figures derived from it, the same for every peer.</summary>
internal static class Measure
{
    /// <summary>Nanoseconds per operation: run(n) does n operations and returns the
    /// nanoseconds they took; n starts at start and grows until a run lasts the target
    /// (at most max operations); then the best of the runs.</summary>
    public static double NsPerOp(Budget budget, long start, long max, Func<long, double> run)
    {
        long n = Math.Max(1, start);
        double targetNs = budget.Target.TotalNanoseconds;
        double ns = run(n);
        while (ns < targetNs && n < max)
        {
            // Aim a little past the target from what the last run says, at most 100x.
            double grow = ns <= 0 ? 100 : Math.Clamp(targetNs * 1.2 / ns, 2, 100);
            n = (long)Math.Min(max, n * grow);
            ns = run(n);
        }
        double best = ns / n;
        for (int i = 1; i < budget.Runs; i++)
            best = Math.Min(best, run(n) / n);
        return best;
    }

    /// <summary>The best of runs of a measurement that returns its own figure.</summary>
    public static double Best(int runs, Func<double> run)
    {
        double best = run();
        for (int i = 1; i < runs; i++)
            best = Math.Min(best, run());
        return best;
    }

    /// <summary>Nanoseconds since a Stopwatch timestamp.</summary>
    public static double NsSince(long timestamp) => Stopwatch.GetElapsedTime(timestamp).TotalNanoseconds;

    /// <summary>Stopwatch ticks to nanoseconds.</summary>
    public static double TicksToNs(long ticks) => ticks * (1e9 / Stopwatch.Frequency);

    /// <summary>The median and 99th percentile of samples (sorted in place), skipping the
    /// first hundredth as warm-up.</summary>
    public static (double Median, double P99) Percentiles(Span<long> samples, Func<long, double> toNs)
    {
        Span<long> kept = samples[(samples.Length / 100)..];
        kept.Sort();
        return (toNs(kept[kept.Length / 2]), toNs(kept[Math.Min(kept.Length - 1, (int)(kept.Length * 0.99))]));
    }

    /// <summary>How many digits each turn wrote, on average, in the interleaving's text:
    /// its length over the runs of one digit.</summary>
    public static double DigitsPerTurn(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
            return 0;
        int turns = 1;
        for (int i = 1; i < text.Length; i++)
            if (text[i] != text[i - 1])
                turns++;
        return (double)text.Length / turns;
    }

    /// <summary>The middle of the interleaving's text, where both writers run.</summary>
    public static string Excerpt(string text, int length = 60) =>
        text.Length <= length ? text : text.Substring((text.Length - length) / 2, length);

    /// <summary>The mixing function the CPU-bound jobs run (versus.c's mix, and Go's).</summary>
    public static ulong Mix(ulong x, long rounds)
    {
        for (long i = 0; i < rounds; i++)
        {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x *= 0x2545F4914F6CDD1DUL;
        }
        return x;
    }

    /// <summary>The result every peer's CPU-bound jobs must give: the xor of each job's
    /// Mix of its number (1..jobs).</summary>
    public static ulong CpuExpected(int jobs, long rounds)
    {
        ulong x = 0;
        for (int j = 1; j <= jobs; j++)
            x ^= Mix((ulong)j, rounds);
        return x;
    }

    public static ulong XorAll(ReadOnlySpan<ulong> values)
    {
        ulong x = 0;
        foreach (ulong v in values)
            x ^= v;
        return x;
    }

    /// <summary>Rounds of Mix that take about duration here (measured on this thread).</summary>
    public static long RoundsFor(TimeSpan duration)
    {
        long rounds = 100_000;
        ulong sink = 0;
        while (true)
        {
            long t = Stopwatch.GetTimestamp();
            sink ^= Mix(sink + 1, rounds);
            double ns = NsSince(t);
            if (ns >= 2e6 || rounds > 1L << 32)
            {
                GC.KeepAlive(sink);
                return Math.Max(1000, (long)(rounds * duration.TotalNanoseconds / ns));
            }
            rounds *= 4;
        }
    }
}
