using System.Globalization;
using System.Net;
using System.Text;

namespace Spindle.Cli.Tracing;

/// <summary>The report as one self-contained HTML page: inline CSS and SVG, and a few lines
/// of inline script (nothing is fetched from anywhere): the histogram of switch costs, their
/// parts, scheduling latency, and a timeline per worker of what it did.</summary>
internal static class HtmlReport
{
    private static readonly string[] StateColors = ["#2f7ed8", "#8e44ad", "#f39c12", "#e74c3c", "#d5d8dc"];
    private static readonly string[] PartColors = ["#2f7ed8", "#27ae60", "#f39c12", "#c0392b", "#8e44ad"];

    private static string F(double v, string format = "0.0") => v.ToString(format, CultureInfo.InvariantCulture);
    private static string E(string s) => WebUtility.HtmlEncode(s);

    private static string Ns(double ns) => ns switch
    {
        >= 1e9 => $"{F(ns / 1e9, "0.00")} s",
        >= 1e6 => $"{F(ns / 1e6, "0.00")} ms",
        >= 1e4 => $"{F(ns / 1e3)} us",
        _ => $"{F(ns, "0")} ns",
    };

    public static void Write(string path, TraceAnalysis a, string name)
    {
        var h = new StringBuilder();
        h.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            """);
        h.Append($"<title>spindle trace report: {E(name)}</title>\n");
        h.Append("""
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; color: #222; background: #fff; }
            h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
            table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
            td, th { padding: 0.2em 0.8em; text-align: right; border-bottom: 1px solid #eee; }
            td:first-child, th:first-child { text-align: left; }
            .facts { color: #555; } .legend span { display: inline-block; margin-right: 1.2em; }
            .swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; vertical-align: -0.1em; }
            svg text { font-size: 11px; fill: #333; }
            </style></head><body>
            """);
        h.Append($"<h1>spindle trace report: {E(name)}</h1>\n");
        (double perSwitch, double share) = a.Overhead();
        h.Append($"<p class=\"facts\">{Ns(a.DurationNs)} recorded on {a.Workers.Count()} worker threads; " +
                 $"{a.Switches:N0} switches between goroutines ({a.DirectSwitches:N0} direct, {a.LoopSwitches:N0} through the run loop, " +
                 $"{a.ManagedSwitches:N0} through the managed scheduler); {a.Records:N0} records in {a.Batches:N0} batches.<br>" +
                 $"Dropped: {a.Dropped:N0} records in libspindle, {a.BatchesLost:N0} batches lost in EventPipe. " +
                 $"Tracer overhead: {F(perSwitch)} ns per traced switch, about {F(share * 100)}% of the workers' busy time.</p>\n");

        h.Append("<h2>Switch cost</h2>\n");
        Histogram(h, a.SwitchCost);
        h.Append("<table><tr><th></th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>count</th></tr>\n");
        Row(h, "all switches", a.SwitchCost, null);
        for (int p = 0; p < 5; p++)
            Row(h, TraceAnalysis.Parts[p], a.PartCost[p], PartColors[p]);
        Row(h, "direct", a.DirectCost, null);
        Row(h, "through the run loop", a.LoopCost, null);
        Row(h, "through the managed scheduler", a.ManagedCost, null);
        Row(h, "runtime call round trip", a.CallCost, null);
        h.Append("</table>\n");
        Parts(h, a);

        h.Append("<h2>Scheduling latency (runnable to running)</h2>\n<table><tr><th></th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>count</th></tr>\n");
        Row(h, "all", a.Latency, null);
        foreach ((int p, LogHistogram hist) in a.LatencyByProcessor)
            Row(h, $"P{p}", hist, null);
        h.Append("</table>\n");

        h.Append("<h2>Workers</h2>\n<p class=\"legend\">");
        for (int s = 0; s < 5; s++)
            h.Append($"<span><i class=\"swatch\" style=\"background:{StateColors[s]}\"></i>{TraceAnalysis.Worker.Names[s]}</span>");
        h.Append("</p>\n");
        Timeline(h, a);

        h.Append("<h2>Goroutines</h2>\n<table><tr><th>state</th><th>total time</th></tr>\n");
        h.Append($"<tr><td>running</td><td>{Ns(a.RunningNs)}</td></tr><tr><td>runnable</td><td>{Ns(a.RunnableNs)}</td></tr>");
        h.Append($"<tr><td>in blocking calls</td><td>{Ns(a.BlockingCallNs)}</td></tr>\n");
        foreach ((WaitReason r, double ns) in a.BlockedNs.OrderByDescending(x => x.Value))
            h.Append($"<tr><td>blocked: {E(GoroutineInfo.Describe(r))}</td><td>{Ns(ns)}</td></tr>\n");
        h.Append("</table>\n<h2>Busiest channels</h2>\n<table><tr><th>channel</th><th>waits</th><th>waited in all</th><th>longest</th></tr>\n");
        foreach (TraceAnalysis.ChannelTally c in a.BusiestChannels(10))
            h.Append($"<tr><td>0x{c.Handle:x}</td><td>{c.Waits:N0}</td><td>{Ns(c.WaitNs)}</td><td>{Ns(c.LongestNs)}</td></tr>\n");
        h.Append("</table>\n<h2>Longest waits</h2>\n<table><tr><th>goroutine</th><th>waiting for</th><th>how long</th><th>from</th></tr>\n");
        foreach (TraceAnalysis.Wait w in a.Longest)
            h.Append($"<tr><td>{w.Goroutine}</td><td>{E(GoroutineInfo.Describe(w.Reason))}{(w.Object != 0 ? $" 0x{w.Object:x}" : "")}</td>" +
                     $"<td>{Ns(w.Ns)}</td><td>{Ns(Math.Max(0, w.StartNs - a.FirstNs))}</td></tr>\n");
        h.Append("</table>\n");
        // The page's one script: it marks the page as rendered (the tests look for the mark),
        // and shows a bar's figures under the chart on hover.
        h.Append("""
            <p id="hover" class="facts">&nbsp;</p>
            <script>
            (function () {
              var out = document.getElementById('hover');
              document.querySelectorAll('svg rect[data-tip]').forEach(function (r) {
                r.addEventListener('mouseenter', function () { out.textContent = r.getAttribute('data-tip'); });
              });
              document.body.setAttribute('data-ready', '1');
            })();
            </script>
            </body></html>
            """);
        File.WriteAllText(path, h.ToString(), new UTF8Encoding(false));
    }

    private static void Row(StringBuilder h, string name, LogHistogram x, string? color)
    {
        string swatch = color is null ? "" : $"<i class=\"swatch\" style=\"background:{color}\"></i>";
        if (x.Count == 0)
        {
            h.Append($"<tr><td>{swatch}{E(name)}</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>0</td></tr>\n");
            return;
        }
        h.Append($"<tr><td>{swatch}{E(name)}</td><td>{Ns(x.Quantile(0.5))}</td><td>{Ns(x.Quantile(0.9))}</td><td>{Ns(x.Quantile(0.99))}</td>" +
                 $"<td>{Ns(x.Quantile(0.999))}</td><td>{Ns(x.Max)}</td><td>{x.Count:N0}</td></tr>\n");
    }

    /// <summary>Switch costs on a log scale, a bar per bin.</summary>
    private static void Histogram(StringBuilder h, LogHistogram x)
    {
        const int W = 760, H = 220, Left = 50, Bottom = 30, Bins = 60;
        var bins = x.Bins(Bins);
        long top = bins.Length == 0 ? 1 : Math.Max(1, bins.Max(b => b.Count));
        h.Append($"<svg id=\"switch-histogram\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"histogram of switch costs\">\n");
        h.Append($"<line x1=\"{Left}\" y1=\"{H - Bottom}\" x2=\"{W}\" y2=\"{H - Bottom}\" stroke=\"#999\"/>\n");
        double bw = (W - Left) / (double)Bins;
        for (int i = 0; i < bins.Length; i++)
        {
            (double lo, double hi, long n) = bins[i];
            double bh = n == 0 ? 0 : Math.Max(1, (H - Bottom - 10) * Math.Log(1 + n) / Math.Log(1 + top));
            string tip = $"{Ns(lo)} to {Ns(hi)}: {n:N0} switches";
            h.Append($"<rect class=\"bar\" x=\"{F(Left + i * bw)}\" y=\"{F(H - Bottom - bh)}\" width=\"{F(Math.Max(1, bw - 1))}\" " +
                     $"height=\"{F(bh)}\" fill=\"#2f7ed8\" data-tip=\"{E(tip)}\"><title>{E(tip)}</title></rect>\n");
            if (i % 10 == 0)
                h.Append($"<text x=\"{F(Left + i * bw)}\" y=\"{H - Bottom + 15}\">{E(Ns(lo))}</text>\n");
        }
        h.Append($"<text x=\"2\" y=\"14\">switches (log)</text><text x=\"{W - 150}\" y=\"{H - 2}\">cost (log scale)</text>\n</svg>\n");
    }

    /// <summary>The mean switch by part, one stacked bar.</summary>
    private static void Parts(StringBuilder h, TraceAnalysis a)
    {
        double total = Enumerable.Range(0, 5).Sum(p => a.PartCost[p].Sum);
        h.Append("<p>Where the time of a switch goes (mean over every switch):</p>\n<svg id=\"parts\" width=\"760\" height=\"34\">\n");
        double x = 0;
        for (int p = 0; p < 5; p++)
        {
            double w = total > 0 ? 760 * a.PartCost[p].Sum / total : 0;
            string tip = $"{TraceAnalysis.Parts[p]}: {(total > 0 ? F(100 * a.PartCost[p].Sum / total) : "0")}%";
            h.Append($"<rect x=\"{F(x)}\" y=\"2\" width=\"{F(w)}\" height=\"30\" fill=\"{PartColors[p]}\" data-tip=\"{E(tip)}\"><title>{E(tip)}</title></rect>\n");
            x += w;
        }
        h.Append("</svg>\n");
    }

    /// <summary>A row per worker; each column stacks the shares of what it did then.</summary>
    private static void Timeline(StringBuilder h, TraceAnalysis a)
    {
        var workers = a.Workers.Where(w => w.Columns.Length > 0).ToList();
        const int RowH = 28, Left = 90, Width = 600;
        int last = 0;
        foreach (var w in workers)
            for (int c = 0; c < w.Columns.Length; c++)
                if (w.Columns[c].Sum() > 0)
                    last = Math.Max(last, c);
        int columns = Math.Max(1, last + 1);
        double cw = Width / (double)columns;
        h.Append($"<svg id=\"timeline\" width=\"{Left + Width + 10}\" height=\"{workers.Count * (RowH + 6) + 24}\">\n");
        for (int i = 0; i < workers.Count; i++)
        {
            var w = workers[i];
            int y = i * (RowH + 6);
            h.Append($"<text x=\"0\" y=\"{y + 18}\">thread {w.Id}</text>\n");
            for (int c = 0; c < columns; c++)
            {
                double[] col = w.Columns[c];
                double sum = col.Sum();
                if (sum <= 0)
                    continue;
                double yy = y;
                for (int s = 0; s < 5; s++)
                {
                    double hh = RowH * col[s] / sum;
                    if (hh <= 0)
                        continue;
                    h.Append($"<rect x=\"{F(Left + c * cw)}\" y=\"{F(yy)}\" width=\"{F(Math.Max(cw, 0.5))}\" height=\"{F(hh)}\" fill=\"{StateColors[s]}\"/>");
                    yy += hh;
                }
            }
            h.Append('\n');
        }
        h.Append($"<text x=\"{Left}\" y=\"{workers.Count * (RowH + 6) + 16}\">0</text>");
        h.Append($"<text x=\"{Left + Width - 60}\" y=\"{workers.Count * (RowH + 6) + 16}\">{E(Ns(columns * (double)a.ColumnNs))}</text>\n</svg>\n");
    }
}
