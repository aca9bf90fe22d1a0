using System.Text.Json;

namespace Spindle.Cli.Versus;

/// <summary>`spindle versus --json`: every row, every figure with its unit, the peers, the
/// ratios, the targets, and what was skipped or capped and why (docs/versus.md describes
/// the shape).</summary>
internal static class JsonWriter
{
    public static string Write(Report report, bool indented = true)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            w.WriteString("tool", "spindle versus");
            w.WriteBoolean("quick", report.Quick);
            w.WriteNumber("maxProcs", report.MaxProcs);
            w.WriteNumber("seconds", Math.Round(report.Took.TotalSeconds, 1));
            w.WriteStartObject("machine");
            foreach (var (key, value) in report.Machine)
                w.WriteString(key, value);
            w.WriteEndObject();
            w.WriteStartArray("peers");
            foreach (Peer p in Enum.GetValues<Peer>())
            {
                w.WriteStartObject();
                w.WriteString("id", Report.PeerId(p));
                w.WriteString("name", Report.PeerName(p));
                w.WriteString("description", Report.PeerDescription(p));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("rows");
            foreach (Row row in report.Rows)
                WriteRow(w, row);
            w.WriteEndArray();
            w.WriteStartArray("steps");
            foreach (var (what, took) in report.Steps)
            {
                w.WriteStartObject();
                w.WriteString("what", what);
                w.WriteNumber("seconds", Math.Round(took.TotalSeconds, 2));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("skipped");
            foreach (Row row in report.Rows)
                foreach (Peer p in Enum.GetValues<Peer>())
                    foreach (var (metric, why) in row.Cells[p].Missing)
                    {
                        w.WriteStartObject();
                        w.WriteString("row", row.Id);
                        w.WriteString("peer", Report.PeerId(p));
                        w.WriteString("metric", metric);
                        w.WriteString("why", why);
                        w.WriteEndObject();
                    }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteRow(Utf8JsonWriter w, Row row)
    {
        w.WriteStartObject();
        w.WriteString("id", row.Id);
        w.WriteString("difference", row.Difference);
        w.WriteString("title", row.Title);
        w.WriteString("how", row.How);
        w.WriteStartArray("metrics");
        foreach (Metric m in row.Metrics)
        {
            w.WriteStartObject();
            w.WriteString("key", m.Key);
            w.WriteString("label", m.Label);
            w.WriteString("unit", m.Unit);
            w.WriteString("better", m.Better.ToString().ToLowerInvariant());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("cells");
        foreach (Peer p in Enum.GetValues<Peer>())
        {
            Cell cell = row.Cells[p];
            w.WriteStartObject(Report.PeerId(p));
            w.WriteStartObject("figures");
            foreach (Metric m in row.Metrics)
                if (cell.Get(m.Key) is double v)
                {
                    w.WriteStartObject(m.Key);
                    w.WriteNumber("value", Math.Round(v, v < 10 ? 4 : 2) is var r && r > 0 ? r : v);
                    w.WriteString("unit", m.Unit);
                    w.WriteEndObject();
                }
            w.WriteEndObject();
            w.WriteStartObject("missing");
            foreach (var (metric, why) in cell.Missing)
                w.WriteString(metric, why);
            w.WriteEndObject();
            w.WriteStartArray("notes");
            foreach (var (metric, text) in cell.Notes)
            {
                w.WriteStartObject();
                if (metric is null)
                    w.WriteNull("metric");
                else
                    w.WriteString("metric", metric);
                w.WriteString("text", text);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (cell.Excerpts.Count > 0)
            {
                w.WriteStartObject("excerpts");
                foreach (var (metric, text) in cell.Excerpts)
                    w.WriteString(metric, text);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartArray("ratios");
        foreach (Ratio r in row.Ratios)
        {
            w.WriteStartObject();
            w.WriteString("metric", r.Metric);
            w.WriteString("goroutines", Report.PeerId(r.Subject));
            w.WriteString("against", Report.PeerId(r.Against));
            w.WriteNumber("timesBetter", Significant(r.Factor));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("targets");
        foreach (Target t in row.Targets)
        {
            w.WriteStartObject();
            w.WriteString("text", t.Text);
            w.WriteString("metric", t.Metric);
            w.WriteString("goroutines", Report.PeerId(t.Subject));
            if (t.Against is Peer a)
                w.WriteString("against", Report.PeerId(a));
            else
                w.WriteNull("against");
            w.WriteNumber("required", t.Required);
            if (t.Factor is double f)
                w.WriteNumber("value", Significant(f));
            else
                w.WriteNull("value");
            if (t.Met is bool met)
                w.WriteString("status", met ? "met" : "missed");
            else
                w.WriteString("status", "not judged");
            if (t.Why is not null)
                w.WriteString("why", t.Why);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("claims");
        foreach (Claim c in row.Claims)
        {
            w.WriteStartObject();
            w.WriteString("text", c.Text);
            w.WriteBoolean("held", c.Held);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        WriteStrings(w, "notes", row.Notes);
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> items)
    {
        w.WriteStartArray(name);
        foreach (string s in items)
            w.WriteStringValue(s);
        w.WriteEndArray();
    }

    /// <summary>v to four significant digits: a ratio of 0.0316 stays 0.0316 (three decimals
    /// made it 0.032, 1.3% off the figures it came from).</summary>
    private static double Significant(double v)
    {
        if (v == 0 || !double.IsFinite(v))
            return v;
        int decimals = 3 - (int)Math.Floor(Math.Log10(Math.Abs(v)));
        return Math.Round(v, Math.Clamp(decimals, 0, 15));
    }
}
