using System.Diagnostics;
using System.Text.Json;
using Spindle.Cli;
using Xunit;

namespace Spindle.Tests;

/// <summary>One run of `spindle versus --quick` (a child process: the native rows print
/// nothing, but they start runtimes of their own), its table, JSON and page, shared by
/// the tests of <see cref="VersusTests"/>.</summary>
public sealed class VersusRun : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("spindle-versus-test-").FullName;

    public VersusRun()
    {
        string json = Path.Combine(_folder, "versus.json"), html = Path.Combine(_folder, "versus.html");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "spindle.dll"), "versus", "--quick", "--json", json, "--html", html })
            start.ArgumentList.Add(a);
        using Process p = Process.Start(start)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        Table = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("spindle versus --quick ran longer than 5 minutes");
        }
        Code = p.ExitCode;
        Err = err.Result;
        Json = File.Exists(json) ? File.ReadAllText(json) : "";
        Html = File.Exists(html) ? File.ReadAllText(html) : "";
        HtmlFile = html;
    }

    public int Code { get; }
    public string Table { get; }
    public string Err { get; }
    public string Json { get; }
    public string Html { get; }
    public string HtmlFile { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public class VersusTests(VersusRun run) : IClassFixture<VersusRun>
{
    private static readonly string[] RowIds =
        ["scheduling", "communication", "speed", "infrastructure", "stacks", "latency", "resources", "identity"];
    private static readonly string[] PeerIds = ["native", "managed", "threads", "tasks", "go"];

    private JsonElement Report()
    {
        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Err}");
        return JsonDocument.Parse(run.Json).RootElement;
    }

    [Fact]
    public void EveryRowIsMeasuredForEveryPeerOrSaysWhyNot()
    {
        JsonElement report = Report();
        Assert.True(report.GetProperty("quick").GetBoolean());
        JsonElement[] rows = [.. report.GetProperty("rows").EnumerateArray()];
        Assert.Equal(RowIds, rows.Select(r => r.GetProperty("id").GetString()));
        bool goOnPath = FindOnPath("go");
        foreach (JsonElement row in rows)
        {
            string id = row.GetProperty("id").GetString()!;
            string[] metrics = [.. row.GetProperty("metrics").EnumerateArray().Select(m => m.GetProperty("key").GetString()!)];
            Assert.NotEmpty(metrics);
            foreach (string peer in PeerIds)
            {
                JsonElement cell = row.GetProperty("cells").GetProperty(peer);
                var figures = cell.GetProperty("figures").EnumerateObject().ToDictionary(f => f.Name, f => f.Value);
                var missing = cell.GetProperty("missing").EnumerateObject().ToDictionary(f => f.Name, f => f.Value.GetString());
                foreach (string metric in metrics)
                {
                    // A figure, positive and finite, or the reason there is none: never both, never neither.
                    Assert.True(figures.ContainsKey(metric) ^ missing.ContainsKey(metric), $"{id}/{peer}/{metric}");
                    if (figures.TryGetValue(metric, out JsonElement f))
                    {
                        double v = f.GetProperty("value").GetDouble();
                        Assert.True(double.IsFinite(v) && v > 0, $"{id}/{peer}/{metric} = {v}");
                    }
                    else
                    {
                        Assert.False(string.IsNullOrWhiteSpace(missing[metric]), $"{id}/{peer}/{metric} has no reason");
                    }
                }
                // Every peer measures something in every row (Go: when go is on PATH).
                if (peer != "go" || goOnPath)
                    Assert.True(figures.Count > 0, $"{id}: {peer} measured nothing: {string.Join("; ", missing.Values)}");
                else
                    Assert.All(missing.Values, why => Assert.Contains("no go toolchain on PATH", why));
            }
        }
    }

    [Fact]
    public void GoroutinesHaveEveryFigureTheyCanHave()
    {
        JsonElement report = Report();
        foreach (JsonElement row in report.GetProperty("rows").EnumerateArray())
            foreach (string peer in new[] { "native", "managed" })
                foreach (JsonProperty missing in row.GetProperty("cells").GetProperty(peer).GetProperty("missing").EnumerateObject())
                {
                    // The one figure a goroutine cannot have: C goroutines have no local storage.
                    string where = $"{row.GetProperty("id").GetString()}/{peer}/{missing.Name}";
                    Assert.True(where == "identity/native/read", $"{where}: {missing.Value.GetString()}");
                }
    }

    [Fact]
    public void RatiosAndTargetsAgreeWithTheFigures()
    {
        JsonElement report = Report();
        foreach (JsonElement row in report.GetProperty("rows").EnumerateArray())
        {
            JsonElement cells = row.GetProperty("cells");
            var better = row.GetProperty("metrics").EnumerateArray()
                .ToDictionary(m => m.GetProperty("key").GetString()!, m => m.GetProperty("better").GetString());
            double Figure(string peer, string metric) =>
                cells.GetProperty(peer).GetProperty("figures").GetProperty(metric).GetProperty("value").GetDouble();
            foreach (JsonElement ratio in row.GetProperty("ratios").EnumerateArray())
            {
                string metric = ratio.GetProperty("metric").GetString()!;
                double g = Figure(ratio.GetProperty("goroutines").GetString()!, metric);
                double a = Figure(ratio.GetProperty("against").GetString()!, metric);
                double expected = better[metric] == "higher" ? g / a : a / g;
                Assert.Equal(expected, ratio.GetProperty("timesBetter").GetDouble(), expected * 0.01);
            }
            foreach (JsonElement target in row.GetProperty("targets").EnumerateArray())
            {
                string status = target.GetProperty("status").GetString()!;
                Assert.Contains(status, new[] { "met", "missed", "not judged" });
                if (status == "not judged")
                    continue;
                double value = target.GetProperty("value").GetDouble(), required = target.GetProperty("required").GetDouble();
                if (Math.Abs(value - required) > required * 0.01) // the JSON rounds the value
                    Assert.Equal(value > required, status == "met");
            }
            if (row.GetProperty("id").GetString() == "resources")
                foreach (string peer in PeerIds)
                    if (cells.GetProperty(peer).GetProperty("figures").TryGetProperty("speedup", out _))
                        Assert.Equal(Figure(peer, "time1") / Figure(peer, "timeN"), Figure(peer, "speedup"),
                            Figure(peer, "speedup") * 0.01);
        }
    }

    [Fact]
    public void TheIdentityDemonstrationShowsWhatItClaims()
    {
        JsonElement identity = Report().GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "identity");
        JsonElement[] claims = [.. identity.GetProperty("claims").EnumerateArray()];
        string[] texts = [.. claims.Select(c => c.GetProperty("text").GetString()!)];
        Assert.All(claims, c => Assert.True(c.GetProperty("held").GetBoolean(), c.GetProperty("text").GetString()));
        // The managed goroutine moved (versus --quick runs at GOMAXPROCS 2), so its claims are there.
        Assert.Contains(texts, t => t.StartsWith("a managed goroutine resumed on another OS thread", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.StartsWith("its [ThreadStatic] value stayed behind", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.StartsWith("its GoroutineLocal<T> value came along", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.StartsWith("an OS thread is its own identity", StringComparison.Ordinal));
    }

    [Fact]
    public void TheTableHasEveryRow()
    {
        Assert.True(run.Code == 0, run.Err);
        foreach (string difference in new[] { "Scheduling", "Communication", "Execution speed", "Dependence on the infrastructure",
                     "Stack management", "Latency of communication", "Resource control", "Local storage" })
            Assert.Contains($" {difference}: ", run.Table);
        Assert.Contains("targets: ", run.Table);
        Assert.Contains("spindle: versus: the JSON is in ", run.Err);
    }

    [Fact]
    public async Task ThePageHasAChartPerRowAndItsScriptRuns()
    {
        Assert.True(run.Code == 0, run.Err);
        string[] sections = run.Html.Split("<section class=\"row\"")[1..];
        Assert.Equal(RowIds.Length, sections.Length);
        Assert.All(sections, s => Assert.Equal(1, s.Split("<svg class=\"chart\"").Length - 1));
        Assert.DoesNotContain("<script src", run.Html); // self-contained
        if (!FindOnPath("chromium"))
            return; // the page's script checks itself where a headless browser is installed
        var start = new ProcessStartInfo("chromium")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", new Uri(run.HtmlFile).AbsoluteUri })
            start.ArgumentList.Add(a);
        using Process p = Process.Start(start)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string dom = await p.StandardOutput.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "chromium did not finish");
        await err;
        // The page's script sets it only when every row and chart is there and nothing threw.
        Assert.Contains($"data-versus-rows=\"{RowIds.Length}\"", dom);
    }

    [Theory]
    [InlineData("--maxprocs 0", "--maxprocs needs a positive number")]
    [InlineData("--maxprocs two", "--maxprocs needs a positive number")]
    [InlineData("--fast", "Unrecognized command or argument '--fast'")]
    [InlineData("--html /no/such/folder/versus.html", "--html needs a file in a folder that exists")]
    [InlineData("--json /", "--json needs a file in a folder that exists")]
    public void BadOptionsAreAClearErrorBeforeAnythingIsMeasured(string args, string message)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Execute(["versus", .. args.Split(' ')], stdout, stderr);
        Assert.Equal(1, code);
        Assert.Contains(message, stderr.ToString());
        Assert.Equal("", stdout.ToString());
    }

    private static bool FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(dir => File.Exists(Path.Combine(dir, name)));
}
