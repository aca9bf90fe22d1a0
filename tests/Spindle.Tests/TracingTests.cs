using System.Diagnostics.Tracing;
using System.Text.Json;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Spindle.Cli.Tracing;
using Xunit;
using static Spindle.Tests.TraceTestSupport;

namespace Spindle.Tests;

/// <summary>The switch trace end to end: recorded by an EventPipe session (in-process, and by
/// the real dotnet-trace), read back with TraceEvent, reported as text, HTML (rendered by
/// headless Chromium) and Perfetto JSON. No timing thresholds: every bound is a sanity bound.</summary>
public class TracingTests
{
    private const int Rounds = 20_000;
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(3);

    /// <summary>A ping-pong recorded in-process: every round trip is two switches, found
    /// (within what the trace says it dropped); every timed switch's cost is positive and
    /// under a second, its parts add up to it, and it fits between its thread's previous
    /// switch and its own end; about one direct switch in 16 is timed, the others carry their
    /// end alone.</summary>
    [Fact]
    public void InProcessSessionRecordsAPingPong()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "pingpong.nettrace");
        var (code, _, err) = RunCli("trace", "record", "--out", file, "--", "demo", "pingpong", Rounds.ToString(), "--maxprocs", "1");
        Assert.True(code == 0, err);
        Assert.Contains("trace written to", err);

        List<Batch> batches = ReadBatches(file);
        Assert.NotEmpty(batches);
        long dropped = batches.Sum(b => b.DroppedBefore);
        long between = 0, timed = 0, untimed = 0;
        var lastEnd = new Dictionary<int, ulong>();
        foreach (Batch b in batches)
        {
            Assert.True(b.TicksPerSecond > 0);
            for (int i = 0; i < b.Records.Length; i++)
            {
                SwitchTraceRecord r = b.Records[i];
                Assert.NotEqual(SwitchTraceKind.Parts, r.Kind); // parts only ever follow their switch
                if (r.Kind != SwitchTraceKind.Switch)
                    continue;
                Assert.True(i + 1 < b.Records.Length, "a switch without its parts");
                SwitchTraceRecord parts = b.Records[++i];
                Assert.Equal(SwitchTraceKind.Parts, parts.Kind);
                ulong whole = parts.PartsTotal;
                ulong sum = 0;
                foreach (SwitchPart p in Enum.GetValues<SwitchPart>())
                    sum += parts.Part(p);
                Assert.Equal(whole, sum);
                if ((r.Flags & SwitchTraceRecord.FlagUntimed) != 0)
                {
                    // One direct switch in about 16 is timed; the others carry their end alone.
                    Assert.True((r.Flags & SwitchTraceRecord.FlagDirect) != 0, "only a direct switch goes untimed");
                    Assert.Equal(0UL, whole);
                    if (lastEnd.TryGetValue(b.Thread, out ulong before))
                        Assert.True(r.Ticks >= before, $"thread {b.Thread}: a switch ends before the last one did");
                    lastEnd[b.Thread] = r.Ticks;
                    untimed++;
                    continue;
                }
                timed++;
                Assert.True(whole > 0, "a timed switch that took no time");
                Assert.True(whole < (ulong)b.TicksPerSecond, $"a switch of {whole} ticks: over a second");
                // The switch began after the thread's previous one ended, and ended when it says.
                ulong start = r.Ticks - whole;
                if (lastEnd.TryGetValue(b.Thread, out ulong previous))
                    Assert.True(start >= previous, $"thread {b.Thread}: a switch begins {previous - start} ticks before the last one ended");
                lastEnd[b.Thread] = r.Ticks;
                if (r.A != 0 && r.B != 0 && r.A != r.B)
                    between++;
            }
        }
        // Two switches a round trip (the first send parks main before its partner ever ran).
        Assert.InRange(between + untimed + dropped, 2L * Rounds - 1, 2L * Rounds + 64);
        Assert.InRange(timed * 64, timed + untimed, long.MaxValue);
        Assert.InRange(timed * 4, 0, timed + untimed);

        // The report reads the same.
        var (rc, text, rerr) = RunCli("trace", "report", file);
        Assert.True(rc == 0, rerr);
        Assert.Contains("switch cost", text);
        Assert.Contains("scheduling latency", text);
        Assert.Contains($"switches: {between + untimed:N0} between goroutines", text);
        Assert.Contains($"switch costs are timed on {between:N0} of the {between + untimed:N0} switches", text);
        Assert.Contains("events dropped:", text);
        Assert.Contains("tracer overhead:", text);
        Directory.Delete(dir, true);
    }

    /// <summary>Listens to the Spindle-Runtime EventSource's goroutine events in-process.</summary>
    private sealed class BlockedEvents : EventListener
    {
        public readonly List<(long Goroutine, int Reason, long Object)> Blocked = [];

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Spindle-Runtime")
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)(long)RuntimeEvents.Keywords.Goroutine);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName == "GoroutineBlocked" && e.Payload is { Count: 3 } p)
                lock (Blocked)
                    Blocked.Add(((long)p[0]!, (int)p[1]!, (long)p[2]!));
        }

        /// <summary>Sleeps the calling goroutine until the blocked events seen so far satisfy
        /// seen, however slowly the machine runs the goroutines it waits for (at most 30 s).</summary>
        public async Task Until(Func<List<(long Goroutine, int Reason, long Object)>, bool> seen)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                lock (Blocked)
                    if (seen(Blocked))
                        return;
                await Runtime.Sleep(TimeSpan.FromMilliseconds(5));
            }
        }
    }

    /// <summary>GoroutineBlocked names the channel or wait group a managed goroutine parks
    /// on (it carried 0 for every managed wait), and 0 for a select over several.</summary>
    [Fact]
    public void GoroutineBlockedNamesWhatAManagedGoroutineWaitsOn()
    {
        using var events = new BlockedEvents();
        var ch = new Chan<int>();
        var other = new Chan<int>();
        var wg = new WaitGroup();
        long receiver = 0, waiter = 0, selector = 0;
        Runtime.Run(async () =>
        {
            wg.Add(1);
            Runtime.Go(async () => { receiver = Machine.CurrentMachine!.Current!.Id; await ch.ReceiveAsync(); });
            Runtime.Go(async () => { waiter = Machine.CurrentMachine!.Current!.Id; await wg.WaitAsync(); });
            Runtime.Go(async () =>
            {
                selector = Machine.CurrentMachine!.Current!.Id;
                var s = new Select();
                s.Receive(ch);
                s.Receive(other);
                await s.WaitAsync();
            });
            // Until all three have parked (their blocked events are in): a fixed sleep left
            // the wait group's waiter unrun under load.
            await events.Until(all => new[] { receiver, waiter, selector }.All(g => g != 0 && all.Any(b => b.Goroutine == g)));
            await ch.SendAsync(1);
            await ch.SendAsync(2);
            wg.Done();
        }, maxProcs: 1);
        List<(long Goroutine, int Reason, long Object)> seen;
        lock (events.Blocked)
            seen = [.. events.Blocked];
        string all = string.Join("; ", seen);
        Assert.Contains((receiver, (int)WaitReason.ChanReceive, (long)ch.RawHandle), seen);
        Assert.Contains((waiter, (int)WaitReason.WaitGroup, (long)((IWaitedOn)wg).WaitedOnHandle), seen);
        Assert.True(seen.Any(b => b.Goroutine == selector && b.Reason == (int)WaitReason.Select && b.Object == 0), all);
    }

    /// <summary>A managed goroutine that waited on a channel and then awaits a task from
    /// outside the runtime is blocked on nothing the runtime owns: that GoroutineBlocked
    /// names no object (it named the channel of the goroutine's earlier wait).</summary>
    [Fact]
    public void AnOutsideAwaitAfterAChannelWaitNamesNoObject()
    {
        using var events = new BlockedEvents();
        var ch = new Chan<int>();
        var outside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long waiter = 0;
        Runtime.Run(async () =>
        {
            Runtime.Go(async () =>
            {
                waiter = Machine.CurrentMachine!.Current!.Id;
                await ch.ReceiveAsync();
                await outside.Task;
            });
            await events.Until(all => all.Any(b => b.Goroutine == waiter && b.Reason == (int)WaitReason.ChanReceive)); // it parked on the channel
            await ch.SendAsync(1);
            await events.Until(all => all.Any(b => b.Goroutine == waiter && b.Reason == (int)WaitReason.External));
            outside.SetResult();
        }, maxProcs: 1);
        List<(long Goroutine, int Reason, long Object)> seen;
        lock (events.Blocked)
            seen = [.. events.Blocked.Where(b => b.Goroutine == waiter)];
        Assert.Contains((waiter, (int)WaitReason.External, 0L), seen);
    }

    /// <summary>With room for three batches only (the thread that started the runtime holds
    /// one while its events trickle in), records are dropped: the trace counts them, the
    /// report says so, and what was kept plus what was dropped accounts for every switch.</summary>
    [Fact]
    public void ATinyBufferDropsAndSaysSo()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "tiny.nettrace");
        const int rounds = 100_000;
        var provider = new EventPipeProvider("Spindle-Runtime", EventLevel.Verbose, 0x3f,
            new Dictionary<string, string> { ["BufferKB"] = "170" }); // three batches of 57,408 bytes
        using (var output = File.Create(file))
            Session(output, [provider], () =>
            {
                var (code, _, err) = RunCli("demo", "pingpong", rounds.ToString(), "--maxprocs", "1");
                Assert.True(code == 0, err);
            });
        List<Batch> batches = ReadBatches(file);
        long dropped = ReadStoppedDrops(file);
        Assert.True(dropped > 0, $"three batches of room and nothing dropped: {batches.Count} batches");
        Assert.True(dropped >= batches.Sum(b => b.DroppedBefore));
        long between = batches.Sum(b => b.Records.Count(r => r.Kind == SwitchTraceKind.Switch && r.A != 0 && r.B != 0 && r.A != r.B));
        Assert.True(between + dropped >= 2L * rounds - 1, $"{between} switches and {dropped} dropped for {rounds} round trips");

        var (rc, text, rerr) = RunCli("trace", "report", file);
        Assert.True(rc == 0, rerr);
        string line = text.Split('\n').Single(l => l.StartsWith("events dropped:", StringComparison.Ordinal));
        Assert.StartsWith($"events dropped: {dropped:N0} records", line);
        Assert.Contains("records are missing", text);
        Directory.Delete(dir, true);
    }

    /// <summary>A truncated trace, a file of random bytes, a trace of another program and a
    /// missing file each give a clear message and exit code 3.</summary>
    [Fact]
    public void UnreadableFilesAreAClearError()
    {
        string dir = TempDir();
        string good = Path.Combine(dir, "good.nettrace");
        var (code, _, err) = RunCli("trace", "record", "-o", good, "--", "demo", "pingpong", "5000", "--maxprocs", "1");
        Assert.True(code == 0, err);
        byte[] all = File.ReadAllBytes(good);

        string truncated = Path.Combine(dir, "truncated.nettrace");
        File.WriteAllBytes(truncated, all[..(all.Length / 2)]);
        var (rc, _, e) = RunCli("trace", "report", truncated);
        Assert.Equal(3, rc);
        Assert.Contains("truncated", e);

        string random = Path.Combine(dir, "random.nettrace");
        var bytes = new byte[100_000];
        new Random(3).NextBytes(bytes);
        File.WriteAllBytes(random, bytes);
        (rc, _, e) = RunCli("trace", "report", random);
        Assert.Equal(3, rc);
        Assert.Contains("not a .nettrace file", e);

        (rc, _, e) = RunCli("trace", "report", Path.Combine(dir, "none.nettrace"));
        Assert.Equal(3, rc);
        Assert.Contains("no such file", e);

        // A trace of this process with the EventSource off: no Spindle-Runtime events.
        string foreign = Path.Combine(dir, "foreign.nettrace");
        using (var output = File.Create(foreign))
            Session(output, [new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, 0x1)], () => GC.Collect());
        (rc, _, e) = RunCli("trace", "report", foreign);
        Assert.Equal(3, rc);
        Assert.Contains("not a trace of a Spindle program", e);
        Directory.Delete(dir, true);
    }

    /// <summary>A SwitchBatch event at version 1, whose records an older Spindle wrote in
    /// another form, is refused with the version and what to do, never decoded as this
    /// version's records. The older file is a real trace whose event metadata says version
    /// 1 (the nettrace metadata of an event: provider, id, name, keywords, version).</summary>
    [Fact]
    public void ABatchOfAnOlderFormatIsAClearError()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "older.nettrace");
        var (code, _, err) = RunCli("trace", "record", "-o", file, "--", "demo", "pingpong", "2000", "--maxprocs", "1");
        Assert.True(code == 0, err);
        byte[] bytes = File.ReadAllBytes(file);
        byte[] metadata = [.. Utf16Z("Spindle-Runtime"), .. BitConverter.GetBytes(RuntimeEventIds.SwitchBatch), .. Utf16Z("SwitchBatch")];
        int at = bytes.AsSpan().IndexOf(metadata);
        Assert.True(at >= 0, "no SwitchBatch metadata in the trace");
        Assert.Equal(-1, bytes.AsSpan(at + 1).IndexOf(metadata)); // one definition, patched once
        int version = at + metadata.Length + sizeof(long); // after the keywords
        Assert.Equal(2, BitConverter.ToInt32(bytes, version));
        BitConverter.GetBytes(1).CopyTo(bytes, version);
        File.WriteAllBytes(file, bytes);

        var (rc, _, e) = RunCli("trace", "report", file);
        Assert.True(rc == 3, e);
        Assert.Contains("format of an older Spindle (version 1)", e);
        Directory.Delete(dir, true);
    }

    private static byte[] Utf16Z(string s) => System.Text.Encoding.Unicode.GetBytes(s + "\0");

    /// <summary>The Perfetto timeline is trace-event JSON: named tracks, a slice per run that
    /// never overlaps the one before it on its track, flows in pairs, a runnable counter.</summary>
    [Fact]
    public void PerfettoTimelineParsesAndSlicesDoNotOverlap()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "ring.nettrace"), json = Path.Combine(dir, "ring.json");
        var (code, _, err) = RunCli("run", "--trace", file, Path.Combine(AppContext.BaseDirectory, "libspindle_demos.so"),
            "--entry", "demo_ring", "--maxprocs", "2");
        Assert.True(code == 0, err);
        var (rc, text, rerr) = RunCli("trace", "report", file, "--perfetto", json);
        Assert.True(rc == 0, rerr);
        Assert.Contains("perfetto:", text);

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(json));
        JsonElement events = doc.RootElement.GetProperty("traceEvents");
        var named = new HashSet<(int, int)>();
        var slices = new Dictionary<(int, int), List<(double Ts, double Dur)>>();
        var flowStarts = new HashSet<long>();
        var flowEnds = new HashSet<long>();
        int counters = 0;
        foreach (JsonElement e in events.EnumerateArray())
        {
            string ph = e.GetProperty("ph").GetString()!;
            int pid = e.GetProperty("pid").GetInt32(), tid = e.GetProperty("tid").GetInt32();
            switch (ph)
            {
                case "M":
                    if (e.GetProperty("name").GetString() == "thread_name")
                        named.Add((pid, tid));
                    break;
                case "X":
                    double ts = e.GetProperty("ts").GetDouble(), dur = e.GetProperty("dur").GetDouble();
                    Assert.True(dur > 0);
                    Assert.StartsWith("goroutine ", e.GetProperty("name").GetString());
                    if (!slices.TryGetValue((pid, tid), out var list))
                        slices[(pid, tid)] = list = [];
                    list.Add((ts, dur));
                    break;
                case "s":
                    flowStarts.Add(e.GetProperty("id").GetInt64());
                    break;
                case "f":
                    Assert.Equal("e", e.GetProperty("bp").GetString());
                    flowEnds.Add(e.GetProperty("id").GetInt64());
                    break;
                case "C":
                    counters++;
                    Assert.True(e.GetProperty("args").GetProperty("runnable").GetInt64() >= 0);
                    break;
                default:
                    Assert.Fail($"an event of phase {ph}");
                    break;
            }
        }
        Assert.NotEmpty(slices);
        Assert.Contains(slices.Keys, k => k.Item1 == 1); // worker tracks
        Assert.Contains(slices.Keys, k => k.Item1 == 2); // processor tracks
        foreach (((int, int) track, List<(double Ts, double Dur)> list) in slices)
        {
            Assert.Contains(track, named);
            var sorted = list.OrderBy(s => s.Ts).ToList();
            for (int i = 1; i < sorted.Count; i++)
                Assert.True(sorted[i].Ts >= sorted[i - 1].Ts + sorted[i - 1].Dur - 0.0015,
                    $"track {track}: a slice at {sorted[i].Ts} us overlaps the one at {sorted[i - 1].Ts} us lasting {sorted[i - 1].Dur} us");
        }
        Assert.NotEmpty(flowStarts);
        Assert.Equal(flowStarts, flowEnds);
        Assert.True(counters > 0);
        Directory.Delete(dir, true);
    }

    /// <summary>The HTML report renders in headless Chromium with its script run (it marks the
    /// page) and its histogram drawn; the screenshot is kept in build/test-artifacts.</summary>
    [Fact]
    public void HtmlReportRendersInChromium()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "pp.nettrace"), html = Path.Combine(dir, "report.html");
        var (code, _, err) = RunCli("trace", "record", "-o", file, "--", "demo", "pingpong", Rounds.ToString(), "--maxprocs", "2");
        Assert.True(code == 0, err);
        var (rc, _, rerr) = RunCli("trace", "report", file, "--html", html);
        Assert.True(rc == 0, rerr);
        string page = File.ReadAllText(html);
        Assert.DoesNotContain("http://", page);
        Assert.DoesNotContain("https://", page);
        Assert.DoesNotContain("<link", page);
        Assert.DoesNotContain("src=", page); // no script, font or image fetched from anywhere

        string chromium = File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : "chromium";
        string[] common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + Path.Combine(dir, "profile"),
                           "--enable-logging=stderr", "--v=0"];
        var (dumpCode, dom, log) = Run(chromium, [.. common, "--dump-dom", new Uri(html).AbsoluteUri], ToolTimeout);
        Assert.True(dumpCode == 0, log);
        Assert.Contains("data-ready=\"1\"", dom); // the script ran to its end
        Assert.Contains("id=\"switch-histogram\"", dom);
        Assert.Contains("class=\"bar\"", dom);
        Assert.DoesNotContain("Uncaught", log);
        string png = Path.Combine(Artifacts, "trace-report.png");
        File.Delete(png);
        var (shotCode, _, shotLog) = Run(chromium, [.. common, "--window-size=1100,1800", "--screenshot=" + png, new Uri(html).AbsoluteUri], ToolTimeout);
        Assert.True(shotCode == 0, shotLog);
        Assert.DoesNotContain("Uncaught", shotLog);
        Assert.True(new FileInfo(png).Length > 10_000, "an empty screenshot");
        Directory.Delete(dir, true);
    }

    /// <summary>The real dotnet-trace records a demo that knows nothing of it, and the report
    /// reads its file.</summary>
    [Fact]
    public void DotnetTraceCollectRecordsADemo()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "collected.nettrace");
        (string host, string[] args) = SpindleProcess("demo", "pingpong", Rounds.ToString(), "--maxprocs", "1");
        var (code, output, err) = Run(Tool("dotnet-trace"),
            ["collect", "--output", file, "--providers", "Spindle-Runtime:0x3f:5", "--show-child-io", "--", host, .. args], ToolTimeout);
        Assert.True(code == 0, output + err);
        Assert.True(File.Exists(file), output + err);
        var (rc, text, rerr) = RunCli("trace", "report", file);
        Assert.True(rc == 0, rerr);
        List<Batch> batches = ReadBatches(file);
        long dropped = batches.Sum(b => b.DroppedBefore);
        long between = batches.Sum(b => b.Records.Count(r => r.Kind == SwitchTraceKind.Switch && r.A != 0 && r.B != 0 && r.A != r.B));
        Assert.InRange(between + dropped, 2L * Rounds - 1, 2L * Rounds + 64);
        Assert.Contains("switch cost", text);
        Directory.Delete(dir, true);
    }

    /// <summary>The flight recorder keeps the last batches and writes them as a trace the
    /// report reads.</summary>
    [Fact]
    public void FlightRecorderWritesTheLastBatches()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "flight.nettrace");
        SwitchTrace.StartFlightRecorder(megabytes: 1);
        try
        {
            Assert.True(SwitchTrace.IsFlightRecording);
            var (code, _, err) = RunCli("demo", "pingpong", "200000", "--maxprocs", "1");
            Assert.True(code == 0, err);
            int written = FlightRecorderFile.Write(file, "on request");
            Assert.InRange(written, 1, 20); // 1 MiB: at most 18 batches
            Assert.True(SwitchTrace.IsFlightRecording); // it goes on
        }
        finally
        {
            SwitchTrace.StopFlightRecorder();
        }
        Assert.False(SwitchTrace.IsFlightRecording);
        var (rc, text, rerr) = RunCli("trace", "report", file);
        Assert.True(rc == 0, rerr);
        Assert.Contains("a flight recorder's last batches", text);
        Assert.Contains("older batches overwritten by the flight recorder", text);
        Directory.Delete(dir, true);
    }

    /// <summary>A deadlock writes the flight recorder's batches where it was told.</summary>
    [Fact]
    public void ADeadlockWritesTheFlightRecorder()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "deadlock.nettrace");
        SwitchTrace.StartFlightRecorder(megabytes: 1, onFailure: reason => FlightRecorderFile.Write(file, reason));
        try
        {
            var io = new long[1];
            Assert.Throws<DeadlockException>(() => TestPrograms.Run("tp_wait_forever", io, maxProcs: 2));
        }
        finally
        {
            SwitchTrace.StopFlightRecorder();
        }
        Assert.True(File.Exists(file));
        var (rc, text, rerr) = RunCli("trace", "report", file);
        Assert.True(rc == 0, rerr);
        Assert.Contains("flight recorder", text);
        Directory.Delete(dir, true);
    }

    /// <summary>spindle run --flight-recorder: a program that deadlocks exits 2 and leaves the
    /// flight recorder's last batches in the file, which the report reads.</summary>
    [Fact]
    public void RunWithTheFlightRecorderWritesItOnADeadlock()
    {
        string dir = TempDir();
        string file = Path.Combine(dir, "run-deadlock.nettrace");
        var (code, _, err) = RunCli("run", "--flight-recorder", file, Path.Combine(AppContext.BaseDirectory, "libspindle_testprogs.so"),
            "--entry", "tp_wait_forever", "--maxprocs", "1");
        Assert.True(code == 2, err);
        Assert.Contains("deadlock", err);
        Assert.Contains($"written to {file}", err);
        Assert.False(SwitchTrace.IsFlightRecording);
        var (rc, text, rerr) = RunCli("trace", "report", file);
        Assert.True(rc == 0, rerr);
        Assert.Contains("a flight recorder's last batches", text);
        Assert.Contains("1 flight-recorder dumps", text);
        Directory.Delete(dir, true);
    }
}
