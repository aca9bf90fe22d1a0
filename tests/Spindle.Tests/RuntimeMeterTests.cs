using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Xunit;
using static Spindle.Tests.TraceTestSupport;

namespace Spindle.Tests;

/// <summary>The Spindle.Runtime meter read the way dotnet-counters and OpenTelemetry read it:
/// through a MeterListener. No timing thresholds: counts and sanity bounds only.</summary>
public class RuntimeMeterTests
{
    /// <summary>Every instrument, with its unit.</summary>
    private static readonly Dictionary<string, string> Expected = new()
    {
        ["spindle.goroutines.live"] = "{goroutine}",
        ["spindle.goroutines.runnable"] = "{goroutine}",
        ["spindle.processors"] = "{processor}",
        ["spindle.workers.running"] = "{thread}",
        ["spindle.workers.blocking"] = "{thread}",
        ["spindle.switches"] = "{switch}",
        ["spindle.runtime_calls"] = "{call}",
        ["spindle.processors.retaken"] = "{processor}",
        ["spindle.stacks.memory"] = "By",
        ["spindle.stacks.segments_grown"] = "{segment}",
        ["spindle.scheduling.latency"] = "s",
        ["spindle.switch.duration"] = "s",
    };

    /// <summary>What a listener saw: the last value of each observable instrument (by name
    /// and tag), and every histogram measurement.</summary>
    private sealed class Readings : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Lock _lock = new();
        public readonly Dictionary<string, string?> Units = [];
        public readonly Dictionary<string, long> Last = [];
        public readonly Dictionary<string, List<double>> Histograms = [];

        public Readings()
        {
            System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(RuntimeMeter).TypeHandle);
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name != RuntimeMeter.Name)
                    return;
                lock (_lock)
                    Units[instrument.Name] = instrument.Unit;
                listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                string key = instrument.Name;
                foreach (KeyValuePair<string, object?> tag in tags)
                    key += $"[{tag.Key}={tag.Value}]";
                lock (_lock)
                    Last[key] = value;
            });
            _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
            {
                lock (_lock)
                {
                    if (!Histograms.TryGetValue(instrument.Name, out List<double>? list))
                        Histograms[instrument.Name] = list = [];
                    list.Add(value);
                }
            });
            _listener.Start();
        }

        /// <summary>Reads every observable instrument now; returns a copy of the values.</summary>
        public Dictionary<string, long> Read()
        {
            _listener.RecordObservableInstruments();
            lock (_lock)
                return new Dictionary<string, long>(Last);
        }

        public List<double> Histogram(string name)
        {
            lock (_lock)
                return Histograms.TryGetValue(name, out List<double>? list) ? [.. list] : [];
        }

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public void TheMeterPublishesEveryInstrumentWithItsUnit()
    {
        using var readings = new Readings();
        Assert.Equal(Expected.OrderBy(kv => kv.Key), readings.Units.OrderBy(kv => kv.Key)!);
    }

    /// <summary>Inside a run: the processors are GOMAXPROCS, main is live on a running worker;
    /// afterwards the switch counter has grown by at least every yield of two native
    /// goroutines, and the counters keep what ended runtimes counted.</summary>
    [Fact]
    public void TheInstrumentsReadTheRuntime()
    {
        using var readings = new Readings();
        const int yields = 10_000;
        Dictionary<string, long> before = readings.Read();
        Dictionary<string, long> inside = [];
        using var io = new NativeSlots(2, yields, 0, 0, 0, 0);
        Runtime.Run(async () =>
        {
            inside = readings.Read();
            Runtime.Go(TestPrograms.Get("tp_spawn_many"), io.Address);
            while (io[2] < 2)
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
        }, maxProcs: 2);
        Dictionary<string, long> after = readings.Read();

        Assert.True(inside.ContainsKey("spindle.processors"), "read inside: " + string.Join(", ", inside.Keys) + "; before: " + string.Join(", ", before.Keys));
        Assert.Equal(2, inside["spindle.processors"]);
        Assert.True(inside["spindle.goroutines.live"] >= 1, "main is not live");
        Assert.True(inside["spindle.workers.running"] >= 1, "no worker holds a processor while main runs");
        Assert.InRange(inside["spindle.goroutines.runnable"], 0, 1_000);
        Assert.InRange(inside["spindle.workers.blocking"], 0, 2);
        foreach (string reason in new[] { "hog", "blocking" })
            Assert.True(inside.ContainsKey($"spindle.processors.retaken[reason={reason}]"), reason);
        foreach (string kind in new[] { "segmented", "reserved" })
            Assert.True(inside[$"spindle.stacks.memory[kind={kind}]"] >= 0, kind);

        // The counters only grow, across runtimes too.
        foreach (string counter in new[] { "spindle.switches", "spindle.runtime_calls", "spindle.stacks.segments_grown",
                                           "spindle.processors.retaken[reason=hog]", "spindle.processors.retaken[reason=blocking]" })
        {
            Assert.True(inside[counter] >= before[counter], counter);
            Assert.True(after[counter] >= inside[counter], counter);
        }
        Assert.True(after["spindle.switches"] - before["spindle.switches"] >= 2 * yields,
            $"{after["spindle.switches"] - before["spindle.switches"]} switches counted for {2 * yields} yields");
        // No runtime: nothing live, no processors.
        Assert.Equal(0, after["spindle.goroutines.live"]);
        Assert.Equal(0, after["spindle.processors"]);
    }

    /// <summary>A reader polling the switch counter while runtimes end one after another
    /// never sees it go back: an ending runtime's count joins the ended runtimes' once,
    /// even while it is still the current runtime (it used to count twice for that moment,
    /// then drop).</summary>
    [Fact]
    public void TheSwitchCounterNeverGoesBackAsRuntimesEnd()
    {
        using var readings = new Readings();
        using var stop = new CancellationTokenSource();
        long back = 0, reads = 0;
        var reader = new Thread(() =>
        {
            long last = 0;
            while (!stop.IsCancellationRequested)
            {
                long now = readings.Read().GetValueOrDefault("spindle.switches");
                if (now < last)
                    Interlocked.Increment(ref back);
                last = Math.Max(last, now);
                reads++;
            }
        }) { IsBackground = true };
        reader.Start();
        using var io = new NativeSlots(2, 20_000, 0, 0, 0, 0);
        for (int i = 0; i < 30; i++)
        {
            io[2] = 0;
            Runtime.Run(TestPrograms.Get("tp_spawn_many"), io.Address, maxProcs: 1);
        }
        stop.Cancel();
        reader.Join();
        Assert.True(reads > 0);
        Assert.True(back == 0, $"the switch counter went back {back} times in {reads} reads");
    }

    /// <summary>While a session streams the switch trace, the two histograms get what it
    /// times: a duration for each timed switch between goroutines, a timed direct one
    /// weighing for the 16 or so it stands for (so about one a switch, within what the trace
    /// dropped), each positive and under a second; latencies never negative.</summary>
    [Fact]
    public void TheHistogramsRecordEverySwitchWhileATraceStreams()
    {
        const int rounds = 20_000;
        using var readings = new Readings();
        long droppedBefore = SwitchTrace.Stats.Dropped;
        var provider = new EventPipeProvider("Spindle-Runtime", EventLevel.Informational, (long)RuntimeEvents.Keywords.Switch);
        Session(Stream.Null, [provider], () =>
        {
            var (code, _, err) = RunCli("demo", "pingpong", rounds.ToString(), "--maxprocs", "1");
            Assert.True(code == 0, err);
        });
        long dropped = SwitchTrace.Stats.Dropped - droppedBefore;
        List<double> durations = readings.Histogram("spindle.switch.duration");
        List<double> latencies = readings.Histogram("spindle.scheduling.latency");
        long switches = 2L * rounds - 1 - dropped;
        Assert.True(durations.Count * 2L >= switches && durations.Count <= 2L * (2L * rounds + 64),
            $"{durations.Count} durations, {dropped} dropped, for {rounds} round trips");
        Assert.All(durations, d => Assert.InRange(d, double.Epsilon, 1.0));
        Assert.NotEmpty(latencies);
        Assert.All(latencies, l => Assert.InRange(l, 0.0, 60.0));
    }

    /// <summary>The real dotnet-counters, attached to this process while runtimes run in it
    /// one after another, shows the meter's instruments with non-zero values.</summary>
    [Fact]
    public void DotnetCountersShowsTheMeter()
    {
        string dir = TempDir();
        string csv = Path.Combine(dir, "counters.csv");
        var stop = new ManualResetEventSlim();
        string? failure = null;
        var load = new Thread(() =>
        {
            while (!stop.IsSet && failure is null)
            {
                var (code, _, err) = RunCli("demo", "pingpong", "200000", "--maxprocs", "1");
                if (code != 0)
                    failure = err;
            }
        });
        load.Start();
        try
        {
            var (code, output, err) = Run(Tool("dotnet-counters"),
                ["collect", "--process-id", Environment.ProcessId.ToString(), "--counters", RuntimeMeter.Name, "--refresh-interval", "1",
                 "--format", "csv", "--output", csv, "--duration", "00:00:00:04"], TimeSpan.FromMinutes(3));
            Assert.True(code == 0, output + err);
        }
        finally
        {
            stop.Set();
            load.Join();
        }
        Assert.Null(failure);
        string[] rows = File.ReadAllLines(csv);
        // Timestamp,Provider,Counter Name,Counter Type,Mean/Increment
        double Max(string counter) => rows.Skip(1).Select(r => r.Split(','))
            .Where(f => f.Length == 5 && f[1] == RuntimeMeter.Name && f[2].StartsWith(counter + " (", StringComparison.Ordinal))
            .Select(f => double.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture))
            .DefaultIfEmpty(-1).Max();
        Assert.True(Max("spindle.processors") == 1, string.Join('\n', rows.Take(40)));
        Assert.True(Max("spindle.goroutines.live") >= 1, string.Join('\n', rows.Take(40)));
        Assert.True(Max("spindle.switches") > 0, string.Join('\n', rows.Take(40)));
        Assert.True(Max("spindle.workers.running") >= 1, string.Join('\n', rows.Take(40)));
        Directory.Delete(dir, true);
    }
}
