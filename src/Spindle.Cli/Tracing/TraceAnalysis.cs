using System.Globalization;
using Microsoft.Diagnostics.Tracing;

namespace Spindle.Cli.Tracing;

/// <summary>What a trace shows, gathered one event at a time in bounded memory: fixed-size
/// histograms, a state per worker, a state per live goroutine (dropped when it exits, at most
/// <see cref="MaxGoroutines"/>), a tally per channel (at most <see cref="MaxChannels"/>), the
/// longest waits, and a timeline of fixed width per worker.</summary>
/// <remarks>Batches arrive in the order libspindle published them, each one thread's records
/// in time order; records of different threads may arrive out of time order (a thread's batch
/// is published when it is full). What crosses threads (a goroutine readied on one and run on
/// another) is matched in either order.</remarks>
internal sealed class TraceAnalysis
{
    public const int MaxGoroutines = 1_000_000, MaxChannels = 100_000, LongestWaits = 10, TimelineColumns = 600;

    private static readonly string[] PartNames = ["save/restore", "run loop decision", "native->managed", "managed scheduler", "managed->native"];
    public static IReadOnlyList<string> Parts => PartNames;

    private readonly PerfettoWriter? _timeline;

    public bool SawProvider { get; private set; }
    public long EventPipeEventsLost { get; set; }

    // The trace.
    public int Mode = -1; // SwitchTraceStarted: 0 streaming, 1 flight recorder
    public double StampNanoseconds;
    public long Batches, BatchesLost, Records, NativeDropped, NativeDroppedReported, OverwrittenBatches;
    private long _traceDropped, _endedTracesDropped;
    public bool Stopped;
    private long _expectedSeq = 1;
    public long FirstNs = long.MaxValue, LastNs = long.MinValue;

    // Switches.
    public readonly LogHistogram SwitchCost = new();
    public readonly LogHistogram[] PartCost = [new(), new(), new(), new(), new()];
    public readonly LogHistogram CallCost = new();
    public long DirectSwitches, LoopSwitches, ManagedSwitches, FromIdle, ToIdle, UntimedRestores, UntimedSwitches, TimedSwitches;
    public readonly LogHistogram DirectCost = new(), LoopCost = new(), ManagedCost = new();
    public long MaxCostNs;

    // Scheduling latency.
    public readonly LogHistogram Latency = new();
    public readonly SortedDictionary<int, LogHistogram> LatencyByProcessor = [];

    // Other records.
    public long Creates, Exits, Blocks, Unblocks, StackGrowths, StackBytesGrown;

    // The managed scheduler's events.
    public long Deadlocks, Hogs, RetakenHog, RetakenBlocking, Handoffs, CallbackFailures, ManagedCreates, FlightDumps;

    // Goroutine states.
    public double RunningNs, RunnableNs, BlockingCallNs;
    public readonly Dictionary<WaitReason, double> BlockedNs = [];
    public long UntrackedGoroutines;
    private readonly Dictionary<long, GState> _goroutines = [];
    private readonly Dictionary<int, Worker> _workers = [];
    private readonly Dictionary<long, ChannelTally> _channels = [];
    public long UntrackedChannels;
    private int _epoch;
    private readonly List<Wait> _longest = [];

    public IEnumerable<Worker> Workers => _workers.Values.OrderBy(w => w.Id);
    public IEnumerable<ChannelTally> BusiestChannels(int n) =>
        _channels.Values.OrderByDescending(c => c.WaitNs).ThenByDescending(c => c.Waits).Take(n);
    public IReadOnlyList<Wait> Longest => _longest;
    public int ProcessorCount => _workers.Values.Select(w => w.Processors).SelectMany(p => p).Distinct().Count();

    public TraceAnalysis(PerfettoWriter? timeline) => _timeline = timeline;

    internal sealed class GState
    {
        public long Id;
        public int State; // 0 runnable, 1 running, 2 blocked
        public long Since;
        public long ReadyNs = -1, PendingRunNs = -1;
        public int Epoch; // the drop gaps seen when ReadyNs or PendingRunNs was set
        public int PendingRunProcessor = -1;
        public WaitReason Reason;
        public long Object;
        public long RunStart = -1;
        public int RunWorker;
        public long FlowFrom = -1; // an unblock's time, for the arrow to its run
        public int FlowWorker;
    }

    /// <summary>One worker thread's time, by what it did.</summary>
    internal sealed class Worker
    {
        public int Id;
        public int Processor = -1;
        public readonly HashSet<int> Processors = [];
        public int State = Unknown; // one of the states below
        public long Since = -1;
        public long Goroutine;
        public bool BlockingCall;
        public readonly double[] Ns = new double[5];
        public double[][] Columns = [];
        // Its timed direct switches so far: what an untimed one is taken to have cost.
        public long TimedDirectNs, TimedDirectCount;
        public const int Running = 0, Blocking = 1, Switching = 2, Spinning = 3, Idle = 4, Unknown = -1;
        public static readonly string[] Names = ["running", "in blocking calls", "switching", "spinning", "idle"];
    }

    internal sealed class ChannelTally
    {
        public long Handle, Waits;
        public double WaitNs, LongestNs;
    }

    internal sealed record Wait(long Goroutine, WaitReason Reason, long Object, long StartNs, long Ns);

    // ---------------------------------------------------------------- events

    public void OnEvent(TraceEvent e)
    {
        SawProvider = true;
        switch ((int)e.ID)
        {
            case RuntimeEventIds.SwitchTraceStarted:
                Mode = Int(e, "mode");
                StampNanoseconds = Double(e, "stampNanoseconds");
                _expectedSeq = 1;
                _endedTracesDropped += _traceDropped; // a trace that never said it stopped
                _traceDropped = 0;
                break;
            case RuntimeEventIds.SwitchBatch:
                OnBatch(e);
                break;
            case RuntimeEventIds.SwitchTraceDropped:
                // Counts so far within one trace; a recording holds several (each flush
                // ends one and starts the next), their counts added up.
                _traceDropped = Math.Max(_traceDropped, Long(e, "recordsDropped"));
                NativeDroppedReported = _endedTracesDropped + _traceDropped;
                break;
            case RuntimeEventIds.SwitchTraceStopped:
                Stopped = true;
                _traceDropped = Math.Max(_traceDropped, Long(e, "dropped"));
                _endedTracesDropped += _traceDropped;
                _traceDropped = 0;
                NativeDroppedReported = _endedTracesDropped;
                OverwrittenBatches = Math.Max(OverwrittenBatches, Long(e, "overwrittenBatches"));
                break;
            case RuntimeEventIds.Deadlock: Deadlocks++; break;
            case RuntimeEventIds.HogDetected: Hogs++; break;
            case RuntimeEventIds.ProcessorRetaken:
                if (Int(e, "reason") == 1)
                    RetakenHog++;
                else
                    RetakenBlocking++;
                break;
            case RuntimeEventIds.ProcessorHandoff: Handoffs++; break;
            case RuntimeEventIds.CallbackFailed: CallbackFailures++; break;
            case RuntimeEventIds.GoroutineCreated: ManagedCreates++; break;
            case RuntimeEventIds.FlightRecorderWritten: FlightDumps++; break;
        }
    }

    private static object? Field(TraceEvent e, string name)
    {
        int i = Array.IndexOf(e.PayloadNames, name);
        return i < 0 ? null : e.PayloadValue(i);
    }

    private static long Long(TraceEvent e, string name) => Convert.ToInt64(Field(e, name) ?? 0L, CultureInfo.InvariantCulture);
    private static int Int(TraceEvent e, string name) => Convert.ToInt32(Field(e, name) ?? 0, CultureInfo.InvariantCulture);
    private static double Double(TraceEvent e, string name) => Convert.ToDouble(Field(e, name) ?? 0.0, CultureInfo.InvariantCulture);

    private SwitchTraceRecord[] _records = new SwitchTraceRecord[SwitchTraceFormat.MaxRecords];

    private void OnBatch(TraceEvent e)
    {
        long seq = Long(e, "sequence");
        int thread = Int(e, "thread"), count = Int(e, "count");
        long dropped = Long(e, "droppedBefore"), tps = Long(e, "ticksPerSecond");
        long originTicks = Long(e, "originTicks"), originNs = Long(e, "originNanoseconds");
        if (e.Version < 2)
            throw new TraceFormatException(
                $"switch trace batch {seq} is in the format of an older Spindle (version {e.Version}); record the trace again with this one");
        if (Field(e, "records") is not string text || count < 0 || count > SwitchTraceFormat.MaxRecords || tps <= 0)
            throw new TraceFormatException($"switch trace batch {seq} cannot be read: damaged");
        Span<SwitchTraceRecord> records = _records.AsSpan(0, count);
        if (!SwitchTraceFormat.TryDecodeRecords(text, (ulong)originTicks, records))
            throw new TraceFormatException($"switch trace batch {seq} cannot be read: damaged");
        if (seq > _expectedSeq)
            BatchesLost += seq - _expectedSeq; // EventPipe dropped them: its buffer was full
        _expectedSeq = Math.Max(_expectedSeq, seq + 1);
        Batches++;
        NativeDropped += dropped;
        if (dropped > 0)
            _epoch++; // records are missing: a ready and a run across the gap are not matched
        var clock = new Clock(originTicks, originNs, tps);
        Worker w = WorkerOf(thread);
        for (int i = 0; i < records.Length; i++)
        {
            ref readonly SwitchTraceRecord r = ref records[i];
            Records++;
            long ns = clock.Ns(r.Ticks);
            FirstNs = Math.Min(FirstNs, ns);
            LastNs = Math.Max(LastNs, ns);
            if (r.Kind == SwitchTraceKind.Switch && i + 1 < records.Length && records[i + 1].Kind == SwitchTraceKind.Parts)
            {
                OnSwitch(w, in r, in records[i + 1], ns, clock);
                i++;
                continue;
            }
            OnRecord(w, in r, ns);
        }
    }

    private readonly record struct Clock(long OriginTicks, long OriginNs, long TicksPerSecond)
    {
        public long Ns(ulong ticks) => OriginNs + (long)(((double)ticks - OriginTicks) * 1e9 / TicksPerSecond);
        public long Duration(ulong ticks) => (long)Math.Round(ticks * 1e9 / TicksPerSecond);
    }

    private Worker WorkerOf(int thread)
    {
        if (!_workers.TryGetValue(thread, out Worker? w))
        {
            w = new Worker { Id = thread };
            _workers[thread] = w;
            _timeline?.NameWorker(thread);
        }
        return w;
    }

    private GState? Goroutine(long id, long ns)
    {
        if (id == 0)
            return null;
        if (_goroutines.TryGetValue(id, out GState? g))
            return g;
        if (_goroutines.Count >= MaxGoroutines)
        {
            UntrackedGoroutines++;
            return null;
        }
        g = new GState { Id = id, Since = ns };
        _goroutines[id] = g;
        return g;
    }

    /// <summary>The worker's time from its last change to at goes to what it was doing.</summary>
    private void Advance(Worker w, long at)
    {
        if (w.Since >= 0 && at > w.Since && w.State != Worker.Unknown)
        {
            int state = w.State == Worker.Running && w.BlockingCall ? Worker.Blocking : w.State;
            w.Ns[state] += at - w.Since;
            AddColumns(w, state, w.Since, at);
        }
        w.Since = Math.Max(w.Since, at);
    }

    private void SetState(Worker w, int state, long at)
    {
        Advance(w, at);
        w.State = state;
        if (w.Since < 0)
            w.Since = at;
    }

    private void OnSwitch(Worker w, in SwitchTraceRecord r, in SwitchTraceRecord parts, long end, Clock clock)
    {
        bool timed = (r.Flags & SwitchTraceRecord.FlagUntimed) == 0;
        long total = clock.Duration(parts.PartsTotal);
        if (!timed)
        {
            // Its end alone: for the time lines, it took what this worker's timed direct
            // switches took on average (never reaching back past the worker's last change).
            total = w.TimedDirectCount > 0 ? w.TimedDirectNs / w.TimedDirectCount : 0;
            if (w.Since >= 0)
                total = Math.Max(0, Math.Min(total, end - w.Since));
        }
        long start = end - total;
        bool between = r.A != 0 && r.B != 0;
        if (between && !timed)
        {
            UntimedSwitches++;
            DirectSwitches++;
        }
        else if (between)
        {
            if (r.A != r.B)
            {
                long weight = r.SampleWeight;
                SwitchCost.Add(total, weight);
                TimedSwitches++;
                for (int p = 0; p < 5; p++)
                    PartCost[p].Add(clock.Duration(parts.Part((SwitchPart)p)), weight);
                MaxCostNs = Math.Max(MaxCostNs, total);
                if ((r.Flags & SwitchTraceRecord.FlagViaManaged) != 0)
                {
                    ManagedSwitches++;
                    ManagedCost.Add(total);
                }
                else if ((r.Flags & SwitchTraceRecord.FlagDirect) != 0)
                {
                    DirectSwitches++;
                    DirectCost.Add(total);
                    w.TimedDirectNs += total;
                    w.TimedDirectCount++;
                }
                else
                {
                    LoopSwitches++;
                    LoopCost.Add(total);
                }
                if ((r.Flags & SwitchTraceRecord.FlagRestoreUntimed) != 0)
                    UntimedRestores++;
            }
            else
            {
                CallCost.Add(total);
            }
        }
        else if (r.A == 0)
        {
            FromIdle++;
        }
        else
        {
            ToIdle++;
        }

        // The worker: what it did until the switch began, then the switch.
        if (w.State == Worker.Unknown && w.Since < 0)
            w.Since = start;
        SetState(w, w.State == Worker.Unknown ? Worker.Running : w.State, start);
        SetState(w, Worker.Switching, start);
        Advance(w, end);
        w.State = r.B != 0 ? Worker.Running : Worker.Switching;
        if (r.Processor >= 0)
        {
            w.Processor = r.Processor;
            w.Processors.Add(r.Processor);
        }

        // The goroutine that left.
        GState? from = Goroutine(r.A, start);
        if (from is not null && r.A != r.B)
        {
            EndRun(from, w, start);
            if (r.Why == SwitchReason.Parked)
            {
                if (from.State != 2 && from.ReadyNs < start)
                {
                    // No block record before it (a select, a managed step): the switch says.
                    from.State = 2;
                    from.Since = start;
                    from.Reason = r.Wait;
                    from.Object = 0;
                }
            }
            else if (r.Why != SwitchReason.Exited)
            {
                from.State = 0;
                from.Since = start;
                Ready(from, start, -1, 0);
            }
        }
        // The goroutine that runs.
        GState? to = Goroutine(r.B, end);
        if (to is not null && r.A != r.B)
        {
            if (to.ReadyNs >= 0 && to.ReadyNs <= end && to.Epoch == _epoch)
            {
                AddLatency(end - to.ReadyNs, w.Processor);
                to.ReadyNs = -1;
                _timeline?.Runnable(end, -1);
            }
            else
            {
                to.ReadyNs = -1;
                to.PendingRunNs = end;
                to.PendingRunProcessor = w.Processor;
                to.Epoch = _epoch;
            }
            if (to.State == 2)
                EndWait(to, end); // its unblock is still to come (another thread's batch)
            to.State = 1;
            to.Since = end;
            to.RunStart = end;
            to.RunWorker = w.Id;
            if (to.FlowFrom >= 0 && _timeline is not null)
            {
                _timeline.Flow(to.FlowWorker, to.FlowFrom, w.Id, end, to.Id);
                to.FlowFrom = -1;
            }
        }
        w.Goroutine = r.B;
    }

    /// <summary>A goroutine's run on a worker ended at end.</summary>
    private void EndRun(GState g, Worker w, long end)
    {
        if (g.RunStart >= 0 && end >= g.RunStart)
        {
            RunningNs += end - g.RunStart;
            if (w.BlockingCall)
                BlockingCallNs += end - g.RunStart;
            _timeline?.Run(g.RunWorker, w.Processor, g.Id, g.RunStart, end);
        }
        g.RunStart = -1;
        if (g.State == 1)
        {
            g.State = 0;
            g.Since = end;
        }
    }

    private void AddLatency(long ns, int processor)
    {
        Latency.Add(ns);
        RunnableNs += ns;
        if (processor < 0)
            return;
        if (!LatencyByProcessor.TryGetValue(processor, out LogHistogram? h))
            LatencyByProcessor[processor] = h = new LogHistogram();
        h.Add(ns);
    }

    /// <summary>g is runnable from at (a create, an unblock, a yield).</summary>
    private void Ready(GState g, long at, int flowWorker, long unused)
    {
        if (g.PendingRunNs >= 0 && g.PendingRunNs >= at && g.Epoch == _epoch)
        {
            AddLatency(g.PendingRunNs - at, g.PendingRunProcessor);
            g.PendingRunNs = -1;
            return;
        }
        g.ReadyNs = at;
        g.PendingRunNs = -1;
        g.Epoch = _epoch;
        _timeline?.Runnable(at, +1);
        if (flowWorker >= 0)
        {
            g.FlowFrom = at;
            g.FlowWorker = flowWorker;
        }
    }

    private void EndWait(GState g, long at)
    {
        long ns = Math.Max(0, at - g.Since);
        BlockedNs[g.Reason] = BlockedNs.GetValueOrDefault(g.Reason) + ns;
        if (g.Object != 0 && IsChannel(g.Reason))
        {
            ChannelTally? c = Channel(g.Object);
            if (c is not null)
            {
                c.WaitNs += ns;
                c.LongestNs = Math.Max(c.LongestNs, ns);
            }
        }
        NoteWait(new Wait(g.Id, g.Reason, g.Object, g.Since, ns));
        g.State = 0;
        g.Since = at;
    }

    private static bool IsChannel(WaitReason r) => r is WaitReason.ChanSend or WaitReason.ChanReceive;

    private ChannelTally? Channel(long handle)
    {
        if (_channels.TryGetValue(handle, out ChannelTally? c))
            return c;
        if (_channels.Count >= MaxChannels)
        {
            UntrackedChannels++;
            return null;
        }
        return _channels[handle] = new ChannelTally { Handle = handle };
    }

    private void NoteWait(Wait wait)
    {
        if (_longest.Count == LongestWaits && wait.Ns <= _longest[^1].Ns)
            return;
        int at = _longest.FindIndex(x => x.Ns < wait.Ns);
        _longest.Insert(at < 0 ? _longest.Count : at, wait);
        if (_longest.Count > LongestWaits)
            _longest.RemoveAt(_longest.Count - 1);
    }

    private void OnRecord(Worker w, in SwitchTraceRecord r, long ns)
    {
        switch (r.Kind)
        {
            case SwitchTraceKind.Create:
                Creates++;
                if (Goroutine(r.A, ns) is GState created)
                {
                    created.State = 0;
                    created.Since = ns;
                    Ready(created, ns, w.Id, 0);
                }
                break;
            case SwitchTraceKind.Exit:
                Exits++;
                if (_goroutines.Remove(r.A, out GState? gone) && gone.RunStart >= 0)
                    EndRun(gone, w, ns);
                break;
            case SwitchTraceKind.Block:
                Blocks++;
                if (Goroutine(r.A, ns) is GState blocked)
                {
                    if (blocked.ReadyNs >= ns && blocked.State == 0)
                    {
                        // Its unblock came first (another thread's batch): the wait is known.
                        blocked.Reason = r.Wait;
                        blocked.Object = r.B;
                        blocked.Since = ns;
                        EndWait(blocked, blocked.ReadyNs);
                    }
                    else
                    {
                        blocked.State = 2;
                        blocked.Since = ns;
                        blocked.Reason = r.Wait;
                        blocked.Object = r.B;
                    }
                }
                if (r.B != 0 && IsChannel(r.Wait) && Channel(r.B) is ChannelTally tally)
                    tally.Waits++;
                break;
            case SwitchTraceKind.Unblock:
                Unblocks++;
                if (Goroutine(r.A, ns) is GState woken)
                {
                    if (woken.State == 2)
                        EndWait(woken, ns);
                    Ready(woken, ns, w.Id, 0);
                }
                break;
            case SwitchTraceKind.Idle:
                SetState(w, Worker.Idle, ns);
                break;
            case SwitchTraceKind.Spin:
                SetState(w, Worker.Spinning, ns);
                break;
            case SwitchTraceKind.Blocking:
                Advance(w, ns);
                w.BlockingCall = r.WhyByte != 0;
                break;
            case SwitchTraceKind.Stack:
                StackGrowths++;
                StackBytesGrown += r.B;
                break;
            case SwitchTraceKind.Processor:
                w.Processor = (int)r.A;
                if (r.A >= 0)
                {
                    w.Processors.Add((int)r.A);
                    _timeline?.NameProcessor((int)r.A);
                }
                break;
        }
    }

    // ---------------------------------------------------------------- the timeline

    private long _columnNs = 1_000_000; // 1 ms a column to start; doubled as the trace grows

    private void AddColumns(Worker w, int state, long from, long to)
    {
        if (FirstNs == long.MaxValue)
            return;
        long origin = FirstNs;
        while (to - origin >= _columnNs * TimelineColumns)
            Coarsen();
        if (w.Columns.Length == 0)
            w.Columns = NewColumns();
        for (long t = from; t < to;)
        {
            long col = Math.Max(0, (t - origin) / _columnNs);
            long colEnd = origin + (col + 1) * _columnNs;
            long upTo = Math.Min(to, colEnd);
            w.Columns[Math.Min(col, TimelineColumns - 1)][state] += upTo - t;
            t = upTo;
        }
    }

    private static double[][] NewColumns()
    {
        var c = new double[TimelineColumns][];
        for (int i = 0; i < c.Length; i++)
            c[i] = new double[5];
        return c;
    }

    private void Coarsen()
    {
        foreach (Worker w in _workers.Values)
        {
            if (w.Columns.Length == 0)
                continue;
            double[][] merged = NewColumns();
            for (int i = 0; i < TimelineColumns; i++)
                for (int s = 0; s < 5; s++)
                    merged[i / 2][s] += w.Columns[i][s];
            w.Columns = merged;
        }
        _columnNs *= 2;
    }

    public long ColumnNs => _columnNs;

    // ---------------------------------------------------------------- the end

    public void Finish()
    {
        if (LastNs == long.MinValue)
            return;
        foreach (Worker w in _workers.Values)
            Advance(w, LastNs);
        foreach (GState g in _goroutines.Values)
        {
            if (g.State == 1 && g.RunStart >= 0)
            {
                RunningNs += LastNs - g.RunStart;
                _timeline?.Run(g.RunWorker, _workers.TryGetValue(g.RunWorker, out Worker? w) ? w.Processor : -1, g.Id, g.RunStart, LastNs);
            }
            else if (g.State == 2)
            {
                EndWait(g, LastNs);
            }
        }
    }

    public long DurationNs => LastNs > FirstNs ? LastNs - FirstNs : 0;
    public long Dropped => Math.Max(NativeDropped, NativeDroppedReported);
    /// <summary>Switches between goroutines, timed or not.</summary>
    public long Switches => TimedSwitches + UntimedSwitches;

    /// <summary>The tracer's own cost: what each traced switch added (measured when the trace
    /// started), over the workers' running and switching time.</summary>
    public (double PerSwitchNs, double Share) Overhead()
    {
        double busy = _workers.Values.Sum(w => w.Ns[Worker.Running] + w.Ns[Worker.Blocking] + w.Ns[Worker.Switching]);
        double cost = StampNanoseconds * (Switches + CallCost.Count + FromIdle + ToIdle);
        return (StampNanoseconds, busy > 0 ? cost / busy : 0);
    }

    // ---------------------------------------------------------------- text

    private static string Ns(double ns) => ns switch
    {
        >= 1e9 => $"{ns / 1e9:0.00} s",
        >= 1e6 => $"{ns / 1e6:0.00} ms",
        >= 1e4 => $"{ns / 1e3:0.0} us",
        _ => $"{ns:0} ns",
    };

    private static void Row(TextWriter o, string name, LogHistogram h)
    {
        if (h.Count == 0)
        {
            o.WriteLine($"  {name,-24}{"-",10}{"-",10}{"-",10}{"-",10}{"-",10}{0,12:N0}");
            return;
        }
        o.WriteLine($"  {name,-24}{Ns(h.Quantile(0.5)),10}{Ns(h.Quantile(0.9)),10}{Ns(h.Quantile(0.99)),10}" +
                    $"{Ns(h.Quantile(0.999)),10}{Ns(h.Max),10}{h.Count,12:N0}");
    }

    private static void Header(TextWriter o, string title) =>
        o.WriteLine($"{title,-26}{"p50",10}{"p90",10}{"p99",10}{"p99.9",10}{"max",10}{"count",12}");

    public void WriteText(TextWriter o)
    {
        o.WriteLine($"trace: {Ns(DurationNs)} recorded, {_workers.Count} worker threads, {ProcessorCount} processors" +
                    $"{(Mode == 1 ? " (a flight recorder's last batches)" : "")}");
        o.WriteLine($"switches: {Switches:N0} between goroutines (direct {DirectSwitches:N0}, through the run loop {LoopSwitches:N0}, " +
                    $"through the managed scheduler {ManagedSwitches:N0}); {CallCost.Count:N0} runtime-call round trips; " +
                    $"{FromIdle:N0} from idle, {ToIdle:N0} to idle");
        o.WriteLine($"records: {Records:N0} in {Batches:N0} batches; goroutines created {Creates:N0}, exited {Exits:N0}, " +
                    $"blocked {Blocks:N0}, unblocked {Unblocks:N0}; stack segments grown {StackGrowths:N0}");
        o.WriteLine($"events dropped: {Dropped:N0} records in libspindle (no free batch), {BatchesLost:N0} batches lost in EventPipe " +
                    $"(about {BatchesLost * (Batches > 0 ? Records / Batches : 0):N0} records), {EventPipeEventsLost:N0} events EventPipe reported lost" +
                    (OverwrittenBatches > 0 ? $"; {OverwrittenBatches:N0} older batches overwritten by the flight recorder" : ""));
        (double perSwitch, double share) = Overhead();
        o.WriteLine($"tracer overhead: {perSwitch:0.0} ns per traced switch (measured when the trace started), " +
                    $"about {share * 100:0.0}% of the workers' busy time; every part below includes its stamps");
        if (Dropped > 0 || BatchesLost > 0)
            o.WriteLine("note: records are missing (see above): latencies and waits across the gaps are left out or read long");
        if (!Stopped && Mode == 0)
            o.WriteLine("note: the trace ends before the switch trace stopped (the session ended first): its last batches may be missing");
        if (UntimedSwitches > 0)
            o.WriteLine($"note: switch costs are timed on {TimedSwitches:N0} of the {Switches:N0} switches: libspindle times one direct " +
                        $"switch in about {SwitchTraceRecord.DirectSwitchesPerTimed}, at random, and the others carry their end alone; in the rows " +
                        $"of all switches each timed direct one counts {SwitchTraceRecord.DirectSwitchesPerTimed} times, and the time lines give " +
                        "an untimed one its worker's mean timed cost");
        o.WriteLine();
        Header(o, "switch cost");
        Row(o, "all", SwitchCost);
        for (int p = 0; p < 5; p++)
            Row(o, "  " + PartNames[p], PartCost[p]);
        Row(o, "direct", DirectCost);
        Row(o, "through the run loop", LoopCost);
        Row(o, "through managed", ManagedCost);
        Row(o, "runtime call round trip", CallCost);
        o.WriteLine();
        Header(o, "scheduling latency");
        Row(o, "all", Latency);
        foreach ((int p, LogHistogram h) in LatencyByProcessor)
            Row(o, $"P{p}", h);
        o.WriteLine();
        o.WriteLine($"{"workers",-12}{"running",12}{"blocking",12}{"switching",12}{"spinning",12}{"idle",12}");
        foreach (Worker w in Workers)
        {
            double all = w.Ns.Sum();
            string Share(int s) => all > 0 ? $"{100 * w.Ns[s] / all:0.0}%" : "-";
            o.WriteLine($"{"thread " + w.Id,-12}{Share(0),12}{Share(1),12}{Share(2),12}{Share(3),12}{Share(4),12}");
        }
        o.WriteLine();
        o.Write($"goroutine time: running {Ns(RunningNs)}, runnable {Ns(RunnableNs)}, in blocking calls {Ns(BlockingCallNs)}");
        foreach ((WaitReason r, double ns) in BlockedNs.OrderByDescending(x => x.Value))
            o.Write($", blocked ({GoroutineInfo.Describe(r)}) {Ns(ns)}");
        o.WriteLine();
        if (UntrackedGoroutines > 0)
            o.WriteLine($"  ({UntrackedGoroutines:N0} records of goroutines beyond the first {MaxGoroutines:N0} live ones not followed)");
        o.WriteLine();
        o.WriteLine("busiest channels (by time goroutines waited on them):");
        bool any = false;
        foreach (ChannelTally c in BusiestChannels(10))
        {
            any = true;
            o.WriteLine($"  channel 0x{c.Handle:x}: {c.Waits:N0} waits, {Ns(c.WaitNs)} in all, longest {Ns(c.LongestNs)}");
        }
        if (!any)
            o.WriteLine("  (no goroutine waited on a channel)");
        o.WriteLine("longest waits:");
        foreach (Wait w in _longest)
            o.WriteLine($"  goroutine {w.Goroutine}: {GoroutineInfo.Describe(w.Reason)}" +
                        $"{(w.Object != 0 ? $" on 0x{w.Object:x}" : "")} for {Ns(w.Ns)}, from {Ns(Math.Max(0, w.StartNs - FirstNs))}");
        if (_longest.Count == 0)
            o.WriteLine("  (none)");
        if (Deadlocks + Hogs + RetakenBlocking + Handoffs + CallbackFailures + FlightDumps > 0)
            o.WriteLine($"scheduler: {Deadlocks} deadlocks, {Hogs} hogs retaken, {RetakenBlocking} processors retaken from blocking calls, " +
                        $"{Handoffs} hand-offs, {CallbackFailures} callbacks failed, {FlightDumps} flight-recorder dumps");
    }
}
