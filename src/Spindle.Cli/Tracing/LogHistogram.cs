namespace Spindle.Cli.Tracing;

/// <summary>A histogram of non-negative durations in nanoseconds in fixed memory (about 30
/// KiB), whatever the count: log-linear buckets, 64 to each power of two (within 1.6% of
/// the value), exact below 64 ns; the max is exact.</summary>
internal sealed class LogHistogram
{
    private const int SubBits = 6, Sub = 1 << SubBits;
    private readonly long[] _counts = new long[(64 - SubBits + 1) * Sub];

    public long Count { get; private set; }
    public long Max { get; private set; }
    public long Min { get; private set; } = long.MaxValue;
    public double Sum { get; private set; }

    private static int Index(long v)
    {
        if (v < Sub)
            return (int)v;
        int e = 63 - (int)long.LeadingZeroCount(v); // >= SubBits
        int sub = (int)((v >> (e - SubBits)) & (Sub - 1));
        return (e - SubBits + 1) * Sub + sub;
    }

    /// <summary>The smallest value of bucket i.</summary>
    private static long Low(int i)
    {
        if (i < Sub)
            return i;
        int e = i / Sub + SubBits - 1, sub = i % Sub;
        return (1L << e) | ((long)sub << (e - SubBits));
    }

    /// <summary>Adds a value that stands for weight of them (a sample's weight).</summary>
    public void Add(long nanoseconds, long weight = 1)
    {
        long v = Math.Max(0, nanoseconds);
        _counts[Index(v)] += weight;
        Count += weight;
        Sum += (double)v * weight;
        if (v > Max)
            Max = v;
        if (v < Min)
            Min = v;
    }

    /// <summary>The value at quantile q (0..1): the middle of its bucket, within the
    /// recorded min and max.</summary>
    public double Quantile(double q)
    {
        if (Count == 0)
            return 0;
        long rank = (long)Math.Ceiling(q * Count);
        rank = Math.Clamp(rank, 1, Count);
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen < rank)
                continue;
            double low = Low(i), high = i + 1 < _counts.Length ? Low(i + 1) : low;
            double mid = i < Sub ? low : (low + high) / 2;
            return Math.Clamp(mid, Min, Max);
        }
        return Max;
    }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>Counts in buckets between lo and hi (ns), for a chart: bins of equal width
    /// on a log scale.</summary>
    public (double Low, double High, long Count)[] Bins(int bins)
    {
        if (Count == 0)
            return [];
        double lo = Math.Max(1, Min), hi = Math.Max(lo * 1.01, Max + 1);
        double step = Math.Log(hi / lo) / bins;
        var result = new (double, double, long)[bins];
        for (int b = 0; b < bins; b++)
            result[b] = (lo * Math.Exp(step * b), lo * Math.Exp(step * (b + 1)), 0);
        for (int i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] == 0)
                continue;
            double v = i < Sub ? Low(i) : (Low(i) + Low(Math.Min(i + 1, _counts.Length - 1))) / 2;
            int b = (int)Math.Clamp(Math.Floor(Math.Log(Math.Max(v, lo) / lo) / step), 0, bins - 1);
            result[b].Item3 += _counts[i];
        }
        return result;
    }
}
