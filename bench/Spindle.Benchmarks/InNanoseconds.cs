using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;

namespace Spindle.Benchmarks;

/// <summary>One time unit for every row, so bench/results.sh can read the tables.</summary>
public sealed class InNanoseconds : ManualConfig
{
    /// <summary>Summaries in nanoseconds.</summary>
    public InNanoseconds() => SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Nanosecond);
}
