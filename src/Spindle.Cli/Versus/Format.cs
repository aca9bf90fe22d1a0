using System.Globalization;

namespace Spindle.Cli.Versus;

/// <summary>Figures as people read them, the same in the table and the page.</summary>
internal static class Format
{
    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public static string Value(double v, string unit) => unit switch
    {
        "ns" when v < 10 => Inv($"{v:0.00} ns"),
        "ns" when v < 100 => Inv($"{v:0.0} ns"),
        "ns" when v < 1_000 => Inv($"{v:0} ns"),
        "ns" when v < 10_000 => Inv($"{v / 1e3:0.00} µs"),
        "ns" when v < 1_000_000 => Inv($"{v / 1e3:0.0} µs"),
        "ns" => Inv($"{v / 1e6:0.0} ms"),
        "ms" when v < 10 => Inv($"{v:0.00} ms"),
        "ms" when v < 100 => Inv($"{v:0.0} ms"),
        "ms" => Inv($"{v:N0} ms"),
        "bytes" when v < 10_000 => Inv($"{v:N0} B"),
        "bytes" when v < 10 << 20 => Inv($"{v / 1024:0.0} KiB"),
        "bytes" => Inv($"{v / (1 << 20):0.0} MiB"),
        "x" => Inv($"{v:0.00}x"),
        "units" when v < 1e6 => Inv($"{v:N0}"),
        "units" when v < 1e9 => Inv($"{v / 1e6:0.0} M"),
        "units" => Inv($"{v / 1e9:0.0} G"),
        _ when v < 10 && v != Math.Floor(v) => Inv($"{v:0.0}"),
        _ => Inv($"{v:N0}"),
    };

    /// <summary>A ratio: how many times better the goroutine does.</summary>
    public static string Factor(double f) => f switch
    {
        >= 100 => Inv($"{f:N0}x"),
        >= 10 => Inv($"{f:0.0}x"),
        _ => Inv($"{f:0.00}x"),
    };

    public static string PeerList(Row row, Peer subject) =>
        string.Join(", ", row.Ratios.Where(r => r.Subject == subject).GroupBy(r => r.Metric).Select(g =>
        {
            Metric m = row.Metrics.Single(x => x.Key == g.Key);
            string against = string.Join(" · ", g.Select(r => $"{Short(r.Against)} {Factor(r.Factor)}"));
            return row.Metrics.Count(x => x.Better != Better.Neither) > 1 ? $"{m.Label}: {against}" : against;
        }));

    public static string Short(Peer p) => p switch
    {
        Peer.Threads => "threads",
        Peer.Tasks => "Tasks",
        Peer.Go => "Go",
        Peer.Native => "native",
        _ => "managed",
    };
}
