using System.Diagnostics.Metrics;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>The Spindle.Runtime meter (System.Diagnostics.Metrics; dotnet-counters monitor
/// --counters Spindle.Runtime, OpenTelemetry). Always on, and free while nobody listens: every
/// counter is observable, read from the per-processor counts the scheduler and libspindle
/// keep anyway, summed only when a listener asks. The two histograms come from the native
/// switch trace: while a session streams it, from every switch; otherwise, while a listener
/// wants them, from a sample of about 5 ms of every second (so waits longer than that are
/// not seen in the sample).</summary>
public static class RuntimeMeter
{
    /// <summary>The meter's name.</summary>
    public const string Name = "Spindle.Runtime";

    private static readonly Meter s_meter = new(Name, typeof(RuntimeMeter).Assembly.GetName().Version?.ToString(3));

    private static readonly Histogram<double> s_latency = s_meter.CreateHistogram<double>("spindle.scheduling.latency", "s",
        "How long goroutines waited from runnable to running (from the switch trace, or a 5 ms sample of every second)");
    private static readonly Histogram<double> s_duration = s_meter.CreateHistogram<double>("spindle.switch.duration", "s",
        "What a switch from one goroutine to the next cost (from the switch trace, or a 5 ms sample of every second)");

    // Counts of runtimes that have ended, so that counters never go back; the last one to
    // end may still be the current runtime for a moment, and must not count twice.
    private static readonly Lock s_endedLock = new();
    private static long s_endedSwitches, s_endedCalls, s_endedHogs, s_endedBlocking;
    private static readonly WeakReference<Scheduler?> s_lastEnded = new(null);

    static RuntimeMeter()
    {
        // Every observable instrument measures a long (one type for every reader).
        s_meter.CreateObservableUpDownCounter("spindle.goroutines.live", () => (long)(Sched()?.LiveGoroutines ?? 0), "{goroutine}",
            "Goroutines started and not finished");
        s_meter.CreateObservableUpDownCounter("spindle.goroutines.runnable", () => Sched()?.RunnableGoroutines() ?? 0, "{goroutine}",
            "Goroutines in run queues, waiting for a processor");
        s_meter.CreateObservableUpDownCounter("spindle.processors", () => (long)(Sched()?.MaxProcs ?? 0), "{processor}",
            "Processors (GOMAXPROCS)");
        s_meter.CreateObservableUpDownCounter("spindle.workers.running", () => Sched() is { } s ? (long)Volatile.Read(ref s.OwnedPs) : 0L,
            "{thread}", "Worker threads holding a processor");
        s_meter.CreateObservableUpDownCounter("spindle.workers.blocking", () => (long)(Sched()?.WorkersInBlockingCalls() ?? 0), "{thread}",
            "Worker threads inside a goroutine's blocking call (sp_block_enter)");
        s_meter.CreateObservableCounter("spindle.switches", () => Cumulative(ref s_endedSwitches, s => s.Switches()), "{switch}",
            "Goroutines run: switches the native run loop made by itself, and goroutines the managed scheduler ran");
        s_meter.CreateObservableCounter("spindle.runtime_calls", () => Cumulative(ref s_endedCalls, s => s.RuntimeCalls()), "{call}",
            "Runtime calls of native goroutines the managed scheduler served");
        s_meter.CreateObservableCounter("spindle.processors.retaken", Retaken, "{processor}",
            "Processors the monitor took back, by reason: hog (a goroutine ran 10 ms without a runtime call) or blocking (a blocking call past 1 ms)");
        s_meter.CreateObservableUpDownCounter("spindle.stacks.memory", Stacks, "By",
            "Stack memory goroutines hold, by kind: segmented (bytes of 2 KiB segments and larger ones) and reserved (usable bytes reserved)");
        s_meter.CreateObservableCounter("spindle.stacks.segments_grown", () =>
        {
            long grown;
            unsafe
            {
                sp_stack_stats(null, null, &grown);
            }
            return grown;
        }, "{segment}", "Segments goroutine stacks grew by");
    }

    private static Scheduler? Sched() => Runtime.CurrentScheduler;

    /// <summary>What the ended runtimes counted (ended) and the running one adds (of).</summary>
    private static long Cumulative(ref long ended, Func<Scheduler, long> of)
    {
        lock (s_endedLock)
        {
            Scheduler? s = Sched();
            bool counted = s is null || (s_lastEnded.TryGetTarget(out Scheduler? last) && last == s);
            return ended + (counted ? 0 : of(s!));
        }
    }

    // Once a second while a runtime runs: the histograms' sample, the Stack keyword's event.
    private static Timer? s_pump;
    private static long s_reportedGrowth;

    /// <summary>Makes sure the pump runs (a runtime starts).</summary>
    internal static void EnsurePump()
    {
        if (Volatile.Read(ref s_pump) is null)
        {
            var timer = new Timer(_ => Pump(), null, Timeout.Infinite, Timeout.Infinite);
            if (Interlocked.CompareExchange(ref s_pump, timer, null) is null)
                timer.Change(1000, 1000);
            else
                timer.Dispose();
        }
    }

    private static void Pump()
    {
        if (Sched() is null)
            return;
        if (HistogramsWanted)
            SwitchTrace.Sample(TimeSpan.FromMilliseconds(5));
        if (RuntimeEvents.Log.IsEnabled(System.Diagnostics.Tracing.EventLevel.Informational, RuntimeEvents.Keywords.Stack))
        {
            long grown, segmented, reserved;
            unsafe
            {
                sp_stack_stats(&segmented, &reserved, &grown);
            }
            if (grown != s_reportedGrowth)
            {
                RuntimeEvents.Log.StackGrowth(grown - s_reportedGrowth, segmented + reserved);
                s_reportedGrowth = grown;
            }
        }
    }

    private static IEnumerable<Measurement<long>> Retaken()
    {
        long hogs = Cumulative(ref s_endedHogs, s => Interlocked.Read(ref s.HogsRetaken));
        long blocking = Cumulative(ref s_endedBlocking, s => Interlocked.Read(ref s.BlockingRetaken));
        return [new(hogs, new KeyValuePair<string, object?>("reason", "hog")), new(blocking, new KeyValuePair<string, object?>("reason", "blocking"))];
    }

    private static unsafe IEnumerable<Measurement<long>> Stacks()
    {
        long segmented, reserved;
        sp_stack_stats(&segmented, &reserved, null);
        return [new(segmented, new KeyValuePair<string, object?>("kind", "segmented")), new(reserved, new KeyValuePair<string, object?>("kind", "reserved"))];
    }

    /// <summary>A runtime stops: its counts join the ended runtimes'.</summary>
    internal static void RuntimeEnded(Scheduler s)
    {
        lock (s_endedLock)
        {
            s_endedSwitches += s.Switches();
            s_endedCalls += s.RuntimeCalls();
            s_endedHogs += Interlocked.Read(ref s.HogsRetaken);
            s_endedBlocking += Interlocked.Read(ref s.BlockingRetaken);
            s_lastEnded.SetTarget(s);
        }
    }

    /// <summary>Whether a listener wants the histograms.</summary>
    internal static bool HistogramsWanted => s_latency.Enabled || s_duration.Enabled;

    /// <summary>Records what a batch of switch records shows (the drain and the sampler call it).</summary>
    internal static void Record(ReadOnlySpan<SwitchTraceRecord> records, double ticksPerSecond, LatencyMatcher latency)
    {
        if (!HistogramsWanted || ticksPerSecond <= 0)
            return;
        for (int i = 0; i < records.Length; i++)
        {
            ref readonly SwitchTraceRecord r = ref records[i];
            switch (r.Kind)
            {
                case SwitchTraceKind.Switch when i + 1 < records.Length && records[i + 1].Kind == SwitchTraceKind.Parts:
                    if (r.A != 0 && r.B != 0 && r.A != r.B && (r.Flags & SwitchTraceRecord.FlagUntimed) == 0)
                    {
                        double seconds = records[i + 1].PartsTotal / ticksPerSecond;
                        for (int k = 0; k < r.SampleWeight; k++) // a histogram takes no weight
                            s_duration.Record(seconds);
                    }
                    if (r.B != 0 && latency.Ran(r.B, r.Ticks) is double waited)
                        s_latency.Record(waited / ticksPerSecond);
                    if (r.A != 0 && r.Why is SwitchReason.Yield or SwitchReason.Stopped or SwitchReason.Step)
                        latency.Readied(r.A, r.Ticks - records[i + 1].PartsTotal);
                    i++;
                    break;
                case SwitchTraceKind.Unblock:
                case SwitchTraceKind.Create:
                    latency.Readied(r.A, r.Ticks);
                    break;
                case SwitchTraceKind.Exit:
                    latency.Forget(r.A);
                    break;
            }
        }
    }

    /// <summary>Matches when goroutines became runnable with when they ran, across batches
    /// (at most a bounded number of goroutines followed).</summary>
    internal sealed class LatencyMatcher
    {
        private const int Max = 100_000;
        private readonly Dictionary<long, ulong> _ready = [];

        public void Readied(long g, ulong ticks)
        {
            if (_ready.Count < Max || _ready.ContainsKey(g))
                _ready[g] = ticks;
        }

        public double? Ran(long g, ulong ticks)
        {
            if (!_ready.Remove(g, out ulong at) || at > ticks)
                return null;
            return ticks - at;
        }

        public void Forget(long g) => _ready.Remove(g);
    }
}
