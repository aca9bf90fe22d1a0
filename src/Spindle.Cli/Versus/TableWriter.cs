using System.Globalization;
using System.Text;

namespace Spindle.Cli.Versus;

/// <summary>The table `spindle versus` prints: a block of lines per difference, a column
/// per peer, the ratios and targets under each block, and footnotes for every figure that
/// is missing (why) or qualified (a cap, a note).</summary>
internal static class TableWriter
{
    private const int LabelWidth = 36, ColumnWidth = 14;

    public static void Write(Report report, TextWriter output)
    {
        var notes = new List<string>();
        int Footnote(string text)
        {
            int i = notes.IndexOf(text);
            if (i < 0)
            {
                notes.Add(text);
                i = notes.Count - 1;
            }
            return i + 1;
        }
        var m = report.Machine;
        output.WriteLine($"spindle versus{(report.Quick ? " --quick" : "")}: goroutines against OS threads, .NET Tasks and Go, on this machine");
        output.WriteLine($"  {m["processors"]} processors ({m["cpu"]}), {m["os"]} {m["architecture"]}, {m["dotnet"]}");
        output.WriteLine($"  spindle {m["spindle"]}, Go: {m["go"]}; GOMAXPROCS 1 and {report.MaxProcs}; load average {m["loadAverageBefore"]} before, {m["loadAverageAfter"]} after");
        output.WriteLine($"  ratios: how many times better goroutines do than each peer (above 1: better); best of {(report.Quick ? Budget.Quick : Budget.Full).Runs} runs");
        output.WriteLine();
        var header = new StringBuilder();
        header.Append("  ").Append("measured".PadRight(LabelWidth));
        foreach (Peer p in Enum.GetValues<Peer>())
            header.Append(Report.PeerShortName(p).PadLeft(ColumnWidth));
        output.WriteLine(header.ToString());
        string rule = "  " + new string('-', LabelWidth + ColumnWidth * Enum.GetValues<Peer>().Length);
        int number = 0;
        foreach (Row row in report.Rows)
        {
            output.WriteLine(rule);
            output.WriteLine($"{++number} {row.Difference}: {row.Title}");
            var noted = new HashSet<Peer>();
            foreach (Metric metric in row.Metrics)
            {
                var line = new StringBuilder("  ").Append(Fit(metric.Label, LabelWidth).PadRight(LabelWidth));
                foreach (Peer p in Enum.GetValues<Peer>())
                {
                    Cell cell = row.Cells[p];
                    string text;
                    if (cell.Get(metric.Key) is double v)
                    {
                        text = Format.Value(v, metric.Unit);
                        bool first = noted.Add(p); // notes on the whole cell go on its first figure
                        string[] texts = [.. cell.Notes.Where(n => n.Metric == metric.Key || (first && n.Metric is null)).Select(n => n.Text)];
                        if (texts.Length > 0)
                            text += $" [{Footnote($"{Report.PeerName(p)}, {metric.Label}: {string.Join("; ", texts)}")}]";
                    }
                    else
                    {
                        text = $"n/a [{Footnote($"{Report.PeerName(p)}, {metric.Label}: {cell.Missing[metric.Key]}")}]";
                    }
                    line.Append(' ').Append(text.PadLeft(ColumnWidth - 1));
                }
                output.WriteLine(line.ToString());
            }
            foreach (Peer p in Enum.GetValues<Peer>())
                foreach (var (metric, excerpt) in row.Cells[p].Excerpts)
                    if (p is Peer.Native or Peer.Threads)
                        output.WriteLine($"    {Report.PeerName(p)}, {row.Metrics.Single(x => x.Key == metric).Label.Replace("digits per turn, ", "")}: ...{excerpt}...");
            foreach (Peer subject in new[] { Peer.Native, Peer.Managed })
                if (Format.PeerList(row, subject) is { Length: > 0 } ratios)
                    output.WriteLine($"    {Format.Short(subject)} against {ratios}");
            foreach (Target t in row.Targets)
                output.WriteLine($"    target {(t.Met switch { true => "met   ", false => "MISSED", null => "n/a   " })} {t.Text}: " +
                                 (t.Factor is double f ? Format.Factor(f) : t.Why));
            foreach (Claim c in row.Claims)
                output.WriteLine($"    {(c.Held ? "shown:" : "NOT SHOWN:")} {c.Text}");
            foreach (string n in row.Notes)
                output.WriteLine($"    {n}");
        }
        output.WriteLine(rule);
        var targets = report.Rows.SelectMany(r => r.Targets).ToList();
        output.WriteLine($"targets: {targets.Count(t => t.Met == true)} met, {targets.Count(t => t.Met == false)} missed" +
                         (targets.Any(t => t.Met is null) ? $", {targets.Count(t => t.Met is null)} not judged" : "") +
                         $"; {report.Took.TotalSeconds:0} s in all (docs/versus.md says what each row measures)");
        if (notes.Count > 0)
        {
            output.WriteLine();
            for (int i = 0; i < notes.Count; i++)
                output.WriteLine($"[{i + 1}] {notes[i]}");
        }
    }

    private static string Fit(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";
}
