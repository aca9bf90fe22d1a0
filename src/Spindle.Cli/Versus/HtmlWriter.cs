using System.Globalization;
using System.Net;
using System.Text;

namespace Spindle.Cli.Versus;

/// <summary>`spindle versus --html FILE`: one self-contained page (no external scripts,
/// styles or fonts) with a section per difference: how it was measured, the figures, an
/// inline SVG bar chart (a block of bars per figure), the ratios, the targets, the claims and every reason
/// a figure is missing. The report's JSON is embedded as data, and a few lines of script
/// check it and say how many rows the page holds (data-versus-rows on the root element),
/// which the tests read back from a headless browser.</summary>
internal static class HtmlWriter
{
    private static readonly Dictionary<Peer, string> Colors = new()
    {
        [Peer.Native] = "#1f77b4",
        [Peer.Managed] = "#17becf",
        [Peer.Threads] = "#d62728",
        [Peer.Tasks] = "#9467bd",
        [Peer.Go] = "#2ca02c",
    };

    private static string H(string s) => WebUtility.HtmlEncode(s);
    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public static string Write(Report report)
    {
        var b = new StringBuilder();
        var m = report.Machine;
        b.AppendLine("<!DOCTYPE html>");
        b.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        b.AppendLine("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        b.AppendLine("<title>spindle versus: goroutines against threads, Tasks and Go</title>");
        b.AppendLine("""
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; line-height: 1.4; padding: 0 1em; }
            h1 { font-size: 1.6em; margin-bottom: 0.2em; }
            h2 { font-size: 1.2em; margin: 1.8em 0 0.3em; border-bottom: 1px solid #ccc; }
            .machine, .how { color: #555; font-size: 0.9em; }
            table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
            th, td { padding: 0.2em 0.7em; text-align: right; border-bottom: 1px solid #eee; }
            th:first-child, td:first-child { text-align: left; }
            td.na { color: #999; }
            .met { color: #137333; font-weight: 600; }
            .missed { color: #b3261e; font-weight: 600; }
            .unjudged { color: #777; font-weight: 600; }
            ul { margin: 0.3em 0; }
            li { font-size: 0.9em; }
            table.excerpts td { text-align: left; }
            code { background: #f6f6f6; font-size: 0.95em; }
            svg text { font: 12px system-ui, sans-serif; fill: #222; }
            .legend span { display: inline-block; margin-right: 1em; font-size: 0.9em; }
            .legend i { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; vertical-align: -0.1em; }
            </style>
            """);
        b.AppendLine("</head><body>");
        b.AppendLine($"<h1>spindle versus{(report.Quick ? " --quick" : "")}</h1>");
        b.AppendLine($"<p class=\"machine\">Goroutines against OS threads, .NET Tasks and Go on {H(m["processors"])} processors ({H(m["cpu"])}), " +
                     $"{H(m["os"])} {H(m["architecture"])}, {H(m["dotnet"])}, spindle {H(m["spindle"])}, Go: {H(m["go"])}. " +
                     $"GOMAXPROCS 1 and {report.MaxProcs}. Load average {H(m["loadAverageBefore"])} before, {H(m["loadAverageAfter"])} after; " +
                     $"{report.Took.TotalSeconds:0} s in all. Ratios say how many times better goroutines do than a peer (above 1: better).</p>");
        b.Append("<p class=\"legend\">");
        foreach (Peer p in Enum.GetValues<Peer>())
            b.Append($"<span><i style=\"background:{Colors[p]}\"></i>{H(Report.PeerName(p))}</span>");
        b.AppendLine("</p>");
        var targets = report.Rows.SelectMany(r => r.Targets).ToList();
        b.AppendLine($"<p>Targets: <span class=\"met\">{targets.Count(t => t.Met == true)} met</span>, " +
                     $"<span class=\"missed\">{targets.Count(t => t.Met == false)} missed</span>" +
                     (targets.Any(t => t.Met is null) ? $", <span class=\"unjudged\">{targets.Count(t => t.Met is null)} not judged</span>" : "") + ".</p>");
        int number = 0;
        foreach (Row row in report.Rows)
            WriteRow(b, row, ++number);
        // The report as data; Utf8JsonWriter escapes '<' and '>', so it cannot end the element.
        b.AppendLine("<script type=\"application/json\" id=\"versus-data\">");
        b.AppendLine(JsonWriter.Write(report, indented: false));
        b.AppendLine("</script>");
        b.AppendLine("""
            <script>
            (function () {
              var data = JSON.parse(document.getElementById("versus-data").textContent);
              var sections = document.querySelectorAll("section.row");
              if (sections.length !== data.rows.length) throw new Error("the page has " + sections.length + " rows, the data " + data.rows.length);
              sections.forEach(function (s) {
                if (s.querySelectorAll("svg.chart").length !== 1) throw new Error("row " + s.id + " has no chart, or several");
              });
              document.documentElement.setAttribute("data-versus-rows", String(data.rows.length));
            })();
            </script>
            """);
        b.AppendLine("</body></html>");
        return b.ToString();
    }

    private static void WriteRow(StringBuilder b, Row row, int number)
    {
        b.AppendLine($"<section class=\"row\" id=\"{H(row.Id)}\">");
        b.AppendLine($"<h2>{number}. {H(row.Difference)}: {H(row.Title)}</h2>");
        b.AppendLine($"<p class=\"how\">{H(row.How)}</p>");
        var reasons = new List<string>();
        b.Append("<table><tr><th>measured</th>");
        foreach (Peer p in Enum.GetValues<Peer>())
            b.Append($"<th>{H(Report.PeerName(p))}</th>");
        b.AppendLine("</tr>");
        foreach (Metric metric in row.Metrics)
        {
            b.Append($"<tr><td>{H(metric.Label)}</td>");
            foreach (Peer p in Enum.GetValues<Peer>())
            {
                Cell cell = row.Cells[p];
                if (cell.Get(metric.Key) is double v)
                {
                    b.Append($"<td>{H(Format.Value(v, metric.Unit))}</td>");
                }
                else
                {
                    string why = cell.Missing[metric.Key];
                    reasons.Add($"{Report.PeerName(p)}, {metric.Label}: {why}");
                    b.Append($"<td class=\"na\" title=\"{H(why)}\">n/a [{reasons.Count}]</td>");
                }
            }
            b.AppendLine("</tr>");
        }
        b.AppendLine("</table>");
        WriteChart(b, row);
        if (row.Cells.Values.Any(c => c.Excerpts.Count > 0))
        {
            b.Append("<table class=\"excerpts\"><tr><th>the middle of the line</th><th>excerpt</th></tr>");
            foreach (Peer p in Enum.GetValues<Peer>())
                foreach (var (metric, excerpt) in row.Cells[p].Excerpts)
                    b.Append($"<tr><td>{H(Report.PeerName(p))}, {H(row.Metrics.Single(x => x.Key == metric).Label.Replace("digits per turn, ", ""))}</td>" +
                             $"<td><code>{H(excerpt)}</code></td></tr>");
            b.AppendLine("</table>");
        }
        var items = new List<string>();
        foreach (Peer subject in new[] { Peer.Native, Peer.Managed })
            if (Format.PeerList(row, subject) is { Length: > 0 } ratios)
                items.Add($"{H(Report.PeerName(subject))} against {H(ratios)}");
        foreach (Target t in row.Targets)
        {
            var (cls, word) = t.Met switch { true => ("met", "met"), false => ("missed", "MISSED"), null => ("unjudged", "not judged") };
            items.Add($"target <span class=\"{cls}\">{word}</span>: {H(t.Text)}: {H(t.Factor is double f ? Format.Factor(f) : t.Why ?? "")}");
        }
        foreach (Claim c in row.Claims)
            items.Add($"<span class=\"{(c.Held ? "met" : "missed")}\">{(c.Held ? "shown" : "NOT SHOWN")}</span>: {H(c.Text)}");
        foreach (string n in row.Notes)
            items.Add(H(n));
        foreach (Peer p in Enum.GetValues<Peer>())
            foreach (var (metric, text) in row.Cells[p].Notes)
                items.Add($"{H(Report.PeerName(p))}{(metric is null ? "" : ", " + H(row.Metrics.Single(x => x.Key == metric).Label))}: {H(text)}");
        for (int i = 0; i < reasons.Count; i++)
            items.Add($"[{i + 1}] {H(reasons[i])}");
        if (items.Count > 0)
            b.AppendLine("<ul>" + string.Concat(items.Select(i => $"<li>{i}</li>")) + "</ul>");
        b.AppendLine("</section>");
    }

    /// <summary>The row's chart: one block of horizontal bars per metric, a bar per peer,
    /// each block on its own scale (the metrics have different units), linear, or
    /// logarithmic when its figures span more than 30x (said in its heading).</summary>
    private static void WriteChart(StringBuilder b, Row row)
    {
        const int LabelW = 150, BarW = 420, ValueW = 90, BarH = 18, Gap = 6, Heading = 22, Space = 14;
        Peer[] peers = Enum.GetValues<Peer>();
        int block = Heading + peers.Length * (BarH + Gap);
        int height = row.Metrics.Length * block + (row.Metrics.Length - 1) * Space;
        b.AppendLine(Inv($"<svg class=\"chart\" role=\"img\" width=\"{LabelW + BarW + ValueW}\" height=\"{height}\" viewBox=\"0 0 {LabelW + BarW + ValueW} {height}\">"));
        b.AppendLine($"<title>{H(row.Difference)}: {H(string.Join(", ", row.Metrics.Select(m => m.Label)))}</title>");
        for (int k = 0; k < row.Metrics.Length; k++)
        {
            Metric metric = row.Metrics[k];
            int top = k * (block + Space);
            double[] values = [.. peers.Select(p => row.Cells[p].Get(metric.Key) ?? double.NaN)];
            double max = values.Where(double.IsFinite).DefaultIfEmpty(1).Max();
            double min = values.Where(double.IsFinite).DefaultIfEmpty(1).Min();
            bool log = min > 0 && max / min > 30;
            double Scale(double v) => log
                ? 0.05 + 0.95 * (Math.Log10(v) - Math.Log10(min) + 0.3) / (Math.Log10(max) - Math.Log10(min) + 0.3)
                : v / max;
            b.AppendLine(Inv($"<text x=\"0\" y=\"{top + 14}\" font-weight=\"600\">") +
                         $"{H(metric.Label)}{(log ? " (log scale)" : "")}{H(metric.Better switch { Better.Lower => ", lower is better", Better.Higher => ", higher is better", _ => "" })}</text>");
            for (int i = 0; i < peers.Length; i++)
            {
                int y = top + Heading + i * (BarH + Gap);
                b.Append(Inv($"<text x=\"0\" y=\"{y + 13}\">{H(Report.PeerName(peers[i]))}</text>"));
                if (double.IsFinite(values[i]))
                {
                    double w = Math.Max(2, BarW * Scale(values[i]));
                    b.Append(Inv($"<rect x=\"{LabelW}\" y=\"{y}\" width=\"{w:0.0}\" height=\"{BarH}\" fill=\"{Colors[peers[i]]}\"><title>{H(Format.Value(values[i], metric.Unit))}</title></rect>"));
                    b.Append(Inv($"<text x=\"{LabelW + w + 4:0.0}\" y=\"{y + 13}\">{H(Format.Value(values[i], metric.Unit))}</text>"));
                }
                else
                {
                    b.Append(Inv($"<text x=\"{LabelW}\" y=\"{y + 13}\" fill=\"#999\">n/a</text>"));
                }
                b.AppendLine();
            }
        }
        b.AppendLine("</svg>");
    }
}
