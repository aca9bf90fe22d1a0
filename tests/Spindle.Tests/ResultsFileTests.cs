using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace Spindle.Tests;

/// <summary>docs/results.md, the table ./build.sh bench writes (bench/results.sh), as it is
/// committed: every row has a positive figure for Spindle and for its peer, and a ratio
/// that matches them. A row that measured nothing (0 ns, NA, an empty cell) fails here.</summary>
public class ResultsFileTests
{
    private static readonly string ResultsFile = Path.Combine(AppContext.BaseDirectory, "results.md");

    private static readonly Regex Figure = new(@"(?<value>[0-9][0-9,]*(\.[0-9]+)?) (?<unit>ns|ms|s|B|instructions)\b");

    private static List<string[]> Rows()
    {
        Assert.True(File.Exists(ResultsFile), "docs/results.md is missing: ./build.sh bench writes it");
        string[] lines = File.ReadAllLines(ResultsFile);
        int header = Array.FindIndex(lines, l => l.StartsWith("| What | Spindle | Peer | Ratio | Target |", StringComparison.Ordinal));
        Assert.True(header >= 0, "docs/results.md has no results table");
        return lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
    }

    private static double Value(string cell, string row)
    {
        Match m = Figure.Match(cell);
        Assert.True(m.Success, $"row '{row}': no figure in '{cell}'");
        double v = double.Parse(m.Groups["value"].Value.Replace(",", ""), CultureInfo.InvariantCulture);
        return m.Groups["unit"].Value switch { "ms" => v * 1e6, "s" => v * 1e9, _ => v };
    }

    [Fact]
    public void EveryRowHasAPositiveFigureBesideItsPeerAndTheirRatio()
    {
        List<string[]> rows = Rows();
        Assert.True(rows.Count >= 20, $"docs/results.md has {rows.Count} rows");
        foreach (string[] cells in rows)
        {
            Assert.Equal(5, cells.Length);
            string what = cells[0];
            Assert.False(string.IsNullOrEmpty(what));
            double spindle = Value(cells[1], what), peer = Value(cells[2], what);
            Assert.True(spindle > 0 && peer > 0, $"row '{what}': a zero figure");
            double ratio = double.Parse(cells[3], CultureInfo.InvariantCulture);
            // The cells are rounded for reading: the ratio agrees with them to a few percent.
            Assert.InRange(ratio, spindle / peer * 0.9 - 0.01, spindle / peer * 1.1 + 0.01);
            Assert.DoesNotContain("NA", cells[1] + cells[2]);
        }
    }

    [Fact]
    public void EveryTargetSaysMetOrMissed()
    {
        foreach (string[] cells in Rows().Where(c => c[4].Length > 0))
            Assert.Matches(@"^≤ [0-9.]+: (met|\*\*missed\*\*)$", cells[4]);
    }

    [Theory]
    [InlineData("tracer compiled in, no session", "tracer compiled out", 4)]
    [InlineData("switch trace streamed", "no session", 3)]
    [InlineData("meter read by dotnet-counters", "no listener", 2)]
    public void WhatTracingCostsIsMeasuredBesideItsBaseline(string what, string peer, int count)
    {
        List<string[]> rows = Rows().Where(c => c[0].Contains(what, StringComparison.Ordinal)).ToList();
        Assert.True(rows.Count == count, $"docs/results.md has {rows.Count} rows on '{what}', not {count}");
        foreach (string[] cells in rows)
        {
            Assert.StartsWith(peer + ":", cells[2]);
            Assert.Matches(@"^≤ [0-9.]+: ", cells[4]); // each has its target
        }
    }
}
