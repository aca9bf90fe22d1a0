using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Spindle.Cli.Versus;

/// <summary>Runs every row of `spindle versus` (docs/versus.md says what each measures
/// and why so): each peer's measurement in turn, never two at once, so that they do not
/// disturb each other. A peer that cannot run a measurement here gets the reason in its
/// cell instead of a figure.</summary>
internal sealed class VersusRunner(bool quick, int maxProcs, VersusProgress progress)
{
    // The programs' sizes, the same for every peer.
    public const int Workers = 4, Capacity = 64;      // the fan-out
    public const int Digits = 2000, Block = 40;       // the interleaving: digits per writer, a yield every Block
    public const long WorkNs = 1000;                  // ... and the work per digit
    public const int Jobs = 16;                       // the CPU-bound build
    public const int MaxSleeps = 2000;                // the identity demonstration
    public static readonly TimeSpan IdentitySleep = TimeSpan.FromTicks(1000); // 100 us
    public static readonly int[] ParkCounts = [10_000, 100_000];
    /// <summary>The most threads --quick starts (the runtime takes longer for each thread
    /// it starts the more there are: 10,000 take seconds).</summary>
    public const int QuickThreads = 5_000;

    /// <summary>Progress steps a run takes (the bar's length).</summary>
    public const int Steps = 40;

    private readonly Budget _b = quick ? Budget.Quick : Budget.Full;
    private readonly int _procs = maxProcs;
    private NativeGoroutines? _native;
    private string? _nativeWhy;
    private GoPeer? _go;
    private string? _goWhy;
    private JsonElement? _goFigures;
    private readonly bool _canPin = SystemInfo.CanPin;

    public Report Run()
    {
        var started = DateTime.UtcNow;
        var report = new Report { Quick = quick, MaxProcs = _procs, Machine = MachineInfo() };
        _native = NativeGoroutines.Find(out _nativeWhy);
        if (_native is not null)
            report.Machine["nativeStacks"] = _native.Stacks;
        progress.Step("Go: building the Go programs");
        _go = GoPeer.Build(out _goWhy);
        progress.Step("Go: running every row's program");
        if (_go is not null)
        {
            report.Machine["go"] = _go.Version;
            _goFigures = _go.Run(TimeSpan.FromMinutes(10), out _goWhy, GoArguments());
        }
        else
        {
            report.Machine["go"] = $"none: {_goWhy}";
        }
        try
        {
            report.Rows.Add(Scheduling());
            report.Rows.Add(Communication());
            report.Rows.Add(Speed());
            Row spawn = Spawn();
            report.Rows.Add(spawn);
            Row stacks = Stacks();
            report.Rows.Add(stacks);
            report.Rows.Add(Latency());
            report.Rows.Add(Resources());
            report.Rows.Add(Identity());
            Limits(spawn, stacks);
        }
        finally
        {
            _go?.Dispose();
        }
        foreach (Row row in report.Rows)
        {
            row.AddRatios();
            foreach (string gap in row.Gaps().ToList())
                throw new InvalidOperationException($"spindle versus: {gap}");
        }
        Targets(report);
        progress.Finish();
        report.Steps = progress.Took;
        report.Machine["loadAverageAfter"] = LoadAverage();
        report.Took = DateTime.UtcNow - started;
        return report;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private Dictionary<string, string> MachineInfo()
    {
        string cpu = "";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
                ?.Split(':', 2)[1].Trim() ?? "";
        }
        catch (IOException)
        {
        }
        return new Dictionary<string, string>
        {
            ["os"] = RuntimeInformation.OSDescription,
            ["architecture"] = RuntimeInformation.OSArchitecture.ToString(),
            ["processors"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["cpu"] = cpu.Length > 0 ? cpu : "unknown",
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
            ["spindle"] = Runtime.NativeVersion,
            ["threadLimits"] = SystemInfo.ThreadLimitsLine(),
            ["loadAverageBefore"] = LoadAverage(),
        };
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    // ------------------------------------------------------------ measuring, with reasons

    /// <summary>One peer's measurement of a row: progress, and a failure becomes the reason
    /// of every figure it did not give.</summary>
    private void Try(Row row, Peer peer, Action<Cell> measure)
    {
        progress.Step($"{row.Difference.ToLowerInvariant()}: {Report.PeerName(peer)}");
        try
        {
            measure(row.Cells[peer]);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            row.SkipPeer(peer, $"the measurement failed: {(e is AggregateException { InnerException: { } inner } ? inner.Message : e.Message)}");
        }
    }

    /// <summary>The native peer's measurement, or its reason when there are no native demos here.</summary>
    private void Native(Row row, Action<NativeGoroutines, Cell> measure)
    {
        if (_native is null)
        {
            progress.Step($"{row.Difference.ToLowerInvariant()}: native goroutines");
            row.SkipPeer(Peer.Native, _nativeWhy!);
            return;
        }
        Try(row, Peer.Native, c => measure(_native, c));
    }

    /// <summary>Go's figures for a row from its one run: key of the Go output per metric.</summary>
    private void Go(Row row, params (string Metric, string GoKey)[] figures)
    {
        Cell cell = row.Cells[Peer.Go];
        foreach (var (metric, key) in figures)
        {
            if (_goFigures is not JsonElement go)
                cell.Skip(metric, _goWhy ?? "the Go program did not run");
            else if (go.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.Number)
                cell.Set(metric, v.GetDouble());
            else
                cell.Skip(metric, $"the Go program gave no {key}");
        }
    }

    private string[] GoArguments() =>
    [
        "-target-ms", ((int)_b.Target.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        "-runs", _b.Runs.ToString(CultureInfo.InvariantCulture),
        "-procs", _procs.ToString(CultureInfo.InvariantCulture),
        "-samples", _b.Samples.ToString(CultureInfo.InvariantCulture),
        "-fanout-workers", Workers.ToString(CultureInfo.InvariantCulture),
        "-fanout-capacity", Capacity.ToString(CultureInfo.InvariantCulture),
        "-cpu-jobs", Jobs.ToString(CultureInfo.InvariantCulture),
        "-cpu-rounds", CpuRounds.ToString(CultureInfo.InvariantCulture),
        "-cpu-chunks", NativeGoroutines.CpuChunks.ToString(CultureInfo.InvariantCulture),
        "-cpu-expected", CpuExpected.ToString(CultureInfo.InvariantCulture),
        "-digits", Digits.ToString(CultureInfo.InvariantCulture),
        "-work-ns", WorkNs.ToString(CultureInfo.InvariantCulture),
        "-block", Block.ToString(CultureInfo.InvariantCulture),
        "-max-parks", MaxSleeps.ToString(CultureInfo.InvariantCulture),
        "-sleep-ns", ((long)IdentitySleep.TotalNanoseconds).ToString(CultureInfo.InvariantCulture),
    ];

    private long? _cpuRounds;
    private ulong? _cpuExpected;
    private long CpuRounds => _cpuRounds ??= Measure.RoundsFor(_b.CpuJob);
    private ulong CpuExpected => _cpuExpected ??= Measure.CpuExpected(Jobs, CpuRounds);

    private string Procs(int n) => n == 1 ? "1 processor" : Inv($"{n} processors");

    /// <summary>Why threads cannot be pinned here, for their cells.</summary>
    private const string NoPinning = "threads cannot be pinned to CPUs here (sched_setaffinity is Linux's)";

    // ------------------------------------------------------------ the rows

    private Row Scheduling()
    {
        var row = new Row
        {
            Id = "scheduling",
            Difference = "Scheduling",
            Title = "cooperative M:N against the kernel's preemptive scheduler",
            How = Inv($"Two units write 0s and 1s into one line, {Digits:N0} digits each with {WorkNs / 1000.0:0.#} us of work per digit. ") +
                  Inv($"Goroutines and Tasks yield every {Block} digits (sp_gosched, Runtime.Yield, Task.Yield, runtime.Gosched); threads never yield: the kernel preempts them. ") +
                  "A turn is a run of one digit: at one processor goroutines take turns where they yield, threads where the kernel's time slice ends; " +
                  Inv($"at {Procs(_procs)} both run at once and the digits mix. Threads are pinned to 1 and then {_procs} CPUs; Tasks run on a scheduler of 1 and then {_procs} at once."),
            Metrics =
            [
                new("turns1", "digits per turn, 1 processor", "digits", Better.Neither),
                new("turnsN", $"digits per turn, {Procs(_procs)}", "digits", Better.Neither),
            ],
        };
        void Record(Cell c, string metric, string text)
        {
            c.Set(metric, Measure.DigitsPerTurn(text));
            c.Excerpts[metric] = Measure.Excerpt(text);
        }
        Native(row, (n, c) =>
        {
            string one = n.Interleave(Digits, WorkNs, Block, 1);
            Record(c, "turns1", one);
            Record(c, "turnsN", n.Interleave(Digits, WorkNs, Block, _procs));
            int exact = Turns(one).Count(t => t == Block), all = Turns(one).Count();
            row.Notes.Add(exact == all
                ? Inv($"At 1 processor every turn of the native goroutines was exactly {Block} digits: they change only where they yield.")
                : Inv($"At 1 processor {exact} of {all} turns of the native goroutines were exactly {Block} digits (the others: a writer held up by the machine longer than 10 ms loses its processor to the other, as Go's sysmon retakes it)."));
        });
        Try(row, Peer.Managed, c =>
        {
            Record(c, "turns1", ManagedGoroutines.Interleave(Digits, WorkNs, Block, 1));
            Record(c, "turnsN", ManagedGoroutines.Interleave(Digits, WorkNs, Block, _procs));
        });
        Try(row, Peer.Threads, c =>
        {
            if (_canPin)
            {
                Record(c, "turns1", OsThreads.Interleave(Digits, WorkNs, 1));
                Record(c, "turnsN", OsThreads.Interleave(Digits, WorkNs, _procs));
            }
            else
            {
                c.Skip("turns1", NoPinning);
                Record(c, "turnsN", OsThreads.Interleave(Digits, WorkNs, 0));
                c.Note("not pinned: the kernel may use every CPU");
            }
        });
        Try(row, Peer.Tasks, c =>
        {
            Record(c, "turns1", DotNetTasks.Interleave(Digits, WorkNs, Block, 1));
            Record(c, "turnsN", DotNetTasks.Interleave(Digits, WorkNs, Block, _procs));
        });
        Cell go = row.Cells[Peer.Go];
        foreach (var (metric, key) in new[] { ("turns1", "interleave1"), ("turnsN", "interleaveN") })
        {
            if (_goFigures is JsonElement g && g.TryGetProperty(key, out JsonElement text) && text.GetString() is { } s)
                Record(go, metric, s);
            else
                go.Skip(metric, _goWhy ?? $"the Go program gave no {key}");
        }
        return row;
    }

    private static IEnumerable<int> Turns(string text)
    {
        int run = 1;
        for (int i = 1; i < text.Length; i++)
        {
            if (text[i] == text[i - 1])
            {
                run++;
                continue;
            }
            yield return run;
            run = 1;
        }
        if (text.Length > 0)
            yield return run;
    }

    private Row Communication()
    {
        var row = new Row
        {
            Id = "communication",
            Difference = "Communication",
            Title = "channels and wait groups against shared memory and a lock",
            How = Inv($"A producer hands the numbers 1..n to {Workers} workers through a queue of {Capacity} slots; each worker sums what it takes, ") +
                  "and the sums are collected once a wait group says all are done. Goroutines: a channel and a WaitGroup (sp_chan and sp_wg in C, Chan<long> and WaitGroup in C#, chan and sync.WaitGroup in Go). " +
                  "Threads: a Queue<long> under a lock with Monitor.Wait/PulseAll, and a shared total. Tasks: a bounded System.Threading.Channels channel and Task.WhenAll. " +
                  Inv($"At {Procs(_procs)}: GOMAXPROCS {_procs}, threads pinned to {_procs} CPUs, Tasks on a scheduler of {_procs} at once."),
            Metrics = [new("item", Inv($"per item, {Workers} workers"), "ns", Better.Lower)],
        };
        Native(row, (n, c) => c.Set("item", n.FanoutNs(_b, _procs, Workers, Capacity)));
        Try(row, Peer.Managed, c => c.Set("item", ManagedGoroutines.FanoutNs(_b, _procs, Workers, Capacity)));
        Try(row, Peer.Threads, c =>
        {
            c.Set("item", OsThreads.FanoutNs(_b, _canPin ? _procs : 0, Workers, Capacity));
            if (!_canPin)
                c.Note("not pinned: the kernel may use every CPU");
        });
        Try(row, Peer.Tasks, c => c.Set("item", DotNetTasks.FanoutNs(_b, _procs, Workers, Capacity)));
        Go(row, ("item", "fanout"));
        return row;
    }

    private Row Speed()
    {
        var row = new Row
        {
            Id = "speed",
            Difference = "Execution speed",
            Title = "switching: a yield, and a channel round trip, on one processor",
            How = "Two units yield to each other (sp_gosched, Runtime.Yield, Thread.Yield, Task.Yield, runtime.Gosched): the cost of one switch. " +
                  "Then two units send a counter back and forth over two unbuffered channels: the cost of a round trip (two switches, two hand-offs). " +
                  "GOMAXPROCS 1; threads pinned to one CPU, handing off through a lock and condition (Monitor.Wait/Pulse); Tasks yield on a scheduler of one at a time, " +
                  "and ping-pong over System.Threading.Channels on the thread pool (its usual setting: every processor).",
            Metrics =
            [
                new("yield", "yield switch", "ns", Better.Lower),
                new("pingpong", "ping-pong round trip", "ns", Better.Lower),
            ],
        };
        Native(row, (n, c) =>
        {
            c.Set("yield", n.YieldNs(_b));
            c.Set("pingpong", n.PingPongNs(_b));
        });
        Try(row, Peer.Managed, c =>
        {
            c.Set("yield", ManagedGoroutines.YieldNs(_b));
            c.Set("pingpong", ManagedGoroutines.PingPongNs(_b));
        });
        Try(row, Peer.Threads, c =>
        {
            if (!_canPin)
            {
                c.Skip("yield", NoPinning + ": on several CPUs a yield has nothing to switch to");
                c.Skip("pingpong", NoPinning);
                return;
            }
            c.Set("yield", OsThreads.YieldNs(_b));
            c.Set("pingpong", OsThreads.PingPongNs(_b));
        });
        Try(row, Peer.Tasks, c =>
        {
            c.Set("yield", DotNetTasks.YieldNs(_b));
            c.Set("pingpong", DotNetTasks.PingPongNs(_b));
        });
        Go(row, ("yield", "yield"), ("pingpong", "pingPong"));
        return row;
    }

    private Row Spawn()
    {
        var row = new Row
        {
            Id = "infrastructure",
            Difference = "Dependence on the infrastructure",
            Title = "starting a unit: the runtime in user space against the kernel",
            How = "Start a unit that does nothing but say it is done, and wait for all of them: sp_go and a wait group, Runtime.Go(async () => wg.Done()), " +
                  "new Thread(...).Start() and Join (64 at a time: the kernel makes each, with its stack), Task.Run, go wg.Done(). " +
                  Inv($"GOMAXPROCS {_procs}. Then how many units the machine lets a program have: for threads the kernel's tightest limit (threads-max, pids.max, ulimit -u, ") +
                  "vm.max_map_count over the mappings a thread adds, measured); for the others an estimate, the memory available over the parked memory each holds (the stack management row).",
            Metrics =
            [
                new("spawn", "spawn + complete", "ns", Better.Lower),
                new("limit", "most units the machine allows", "units", Better.Higher),
            ],
        };
        Native(row, (n, c) => c.Set("spawn", n.SpawnNs(_b, _procs)));
        Try(row, Peer.Managed, c => c.Set("spawn", ManagedGoroutines.SpawnNs(_b, _procs)));
        Try(row, Peer.Threads, c => c.Set("spawn", OsThreads.SpawnNs(_b)));
        Try(row, Peer.Tasks, c => c.Set("spawn", DotNetTasks.SpawnNs(_b)));
        Go(row, ("spawn", "spawn"));
        return row;
    }

    private Row Stacks()
    {
        var row = new Row
        {
            Id = "stacks",
            Difference = "Stack management",
            Title = "2 KiB growable stacks against fixed reservations: memory per parked unit",
            How = "Park N units and read the resident memory they add (/proc/self/statm), each measurement in a fresh process (memory a heap kept from earlier work would hide in the figure; " +
                  "managed heaps are collected before both readings). Goroutines park in a receive on one channel; threads block in Monitor.Wait on one lock; Tasks await one TaskCompletionSource. " +
                  "A thread also holds kernel memory (its kernel stack and task record) that is not resident memory of the process and is not counted; its cell notes the kernel stack the machine gained.",
            Metrics =
            [
                new("park10k", "per parked unit, 10,000 units", "bytes", Better.Lower),
                new("park100k", "per parked unit, 100,000 units", "bytes", Better.Lower),
            ],
        };
        string Key(int n) => n == 10_000 ? "park10k" : "park100k";
        void Child(Cell c, string kind, int n, long cap)
        {
            ParkChild.Result? r = ParkChild.Run(kind, n, cap, _procs, out string? why);
            if (r is null)
            {
                c.Skip(Key(n), why!);
                return;
            }
            c.Set(Key(n), r.BytesPerUnit);
            if (r.Capped is not null)
                c.Note(Inv($"{n:N0} asked for: {r.Capped}; the figure is per thread of those {r.Units:N0}"), Key(n));
            if (kind == "threads" && r.KernelPerUnit > 0)
                c.Note(Inv($"the kernel held {r.KernelPerUnit / 1024:0.0} KiB more of kernel stack per thread (KernelStack, machine-wide; not in the figure)"), Key(n));
            if (kind == "threads" && r.VirtualPerUnit > 0)
                c.Note(Inv($"{r.VirtualPerUnit / (1024 * 1024):0.0} MiB of address space reserved per thread at {r.Units:N0}"), Key(n));
        }
        foreach (int n in ParkCounts)
        {
            Native(row, (_, c) => Child(c, "native", n, n));
            Try(row, Peer.Managed, c => Child(c, "managed", n, n));
            Try(row, Peer.Threads, c =>
            {
                if (quick && n > 10_000)
                    c.Skip(Key(n), Inv($"not measured with --quick (it would start {n:N0} threads); run without --quick for as many as the machine allows"));
                else
                    Child(c, "threads", n, quick ? QuickThreads : n);
            });
            Try(row, Peer.Tasks, c => Child(c, "tasks", n, n));
            progress.Step(Inv($"stack management: Go, {n:N0} goroutines"));
            Cell go = row.Cells[Peer.Go];
            if (_go is null)
            {
                go.Skip(Key(n), _goWhy!);
                continue;
            }
            JsonElement? figures = _go.Run(TimeSpan.FromMinutes(5), out string? why, "-park", n.ToString(CultureInfo.InvariantCulture));
            if (figures is JsonElement f && f.TryGetProperty("parkBytes", out JsonElement bytes))
                go.Set(Key(n), bytes.GetDouble());
            else
                go.Skip(Key(n), why ?? "the Go program gave no parkBytes");
        }
        if (_native is not null)
            row.Cells[Peer.Native].Note($"stacks: {_native.Stacks}");
        return row;
    }

    private Row Latency()
    {
        var row = new Row
        {
            Id = "latency",
            Difference = "Latency of communication",
            Title = "one message to a unit that waits for it",
            How = Inv($"{_b.Samples:N0} messages, each the time it was sent, alternate between two units, so each finds its receiver waiting; ") +
                  "the receiver takes the time it arrived. Goroutines: unbuffered channels; threads: a lock and condition (Monitor.Wait/Pulse); Tasks: System.Threading.Channels. " +
                  Inv($"GOMAXPROCS {_procs}; threads pinned to {_procs} CPUs, Tasks on a scheduler of {_procs} at once. The first hundredth is left out as warm-up."),
            Metrics =
            [
                new("median", "median", "ns", Better.Lower),
                new("p99", "99th percentile", "ns", Better.Lower),
            ],
        };
        void Record(Cell c, (double Median, double P99) l)
        {
            c.Set("median", l.Median);
            c.Set("p99", l.P99);
        }
        Native(row, (n, c) => Record(c, n.Latency(_b.Samples, _procs)));
        Try(row, Peer.Managed, c => Record(c, ManagedGoroutines.Latency(_b.Samples, _procs)));
        Try(row, Peer.Threads, c =>
        {
            Record(c, OsThreads.Latency(_b.Samples, _canPin ? _procs : 0));
            if (!_canPin)
                c.Note("not pinned: the kernel may use every CPU");
        });
        Try(row, Peer.Tasks, c => Record(c, DotNetTasks.Latency(_b.Samples, _procs)));
        Go(row, ("median", "latencyMedian"), ("p99", "latencyP99"));
        return row;
    }

    private Row Resources()
    {
        long rounds = CpuRounds;
        var row = new Row
        {
            Id = "resources",
            Difference = "Resource control",
            Title = Inv($"GOMAXPROCS: a CPU-bound build on 1 and {Procs(_procs)}"),
            How = Inv($"The article's build: {Jobs} independent jobs, each {rounds:N0} rounds of a 64-bit mixing function (xorshift and a multiply, each round depending on the last; ") +
                  Inv($"about {_b.CpuJob.TotalMilliseconds:0} ms on one processor here), timed at GOMAXPROCS 1 and then {_procs}; the best of {_b.Runs} runs each. ") +
                  Inv($"Goroutines yield {NativeGoroutines.CpuChunks} times a job, as cooperative code does. Threads: a thread per job, pinned to 1 and then {_procs} CPUs; ") +
                  Inv($"Tasks: Parallel.For with MaxDegreeOfParallelism 1 and then {_procs}. Every peer's jobs must give the same result."),
            Metrics =
            [
                new("time1", "time at 1 processor", "ms", Better.Neither),
                new("timeN", $"time at {Procs(_procs)}", "ms", Better.Neither),
                new("speedup", Inv($"speed-up 1 -> {_procs}"), "x", Better.Higher),
            ],
        };
        ulong expected = CpuExpected;
        void Record(Cell c, Func<int, double> ns)
        {
            double one = Measure.Best(_b.Runs, () => ns(1)) / 1e6;
            double many = Measure.Best(_b.Runs, () => ns(_procs)) / 1e6;
            c.Set("time1", one);
            c.Set("timeN", many);
            c.Set("speedup", one / many);
        }
        if (LoadAverage().Split(' ')[0] is var load && double.TryParse(load, CultureInfo.InvariantCulture, out double l) &&
            l > Environment.ProcessorCount - 0.5)
            row.Notes.Add(Inv($"The machine was busy (load average {load} on {Environment.ProcessorCount} processors): a speed-up needs processors nothing else uses."));
        if (Environment.ProcessorCount < _procs)
            row.Notes.Add(Inv($"This machine has {Environment.ProcessorCount} processors: at {_procs} the units share them, and no speed-up beyond {Environment.ProcessorCount} is possible."));
        Native(row, (n, c) => Record(c, p => n.CpuNs(Jobs, rounds, p, expected)));
        Try(row, Peer.Managed, c => Record(c, p => ManagedGoroutines.CpuNs(Jobs, rounds, p, expected)));
        Try(row, Peer.Threads, c =>
        {
            if (!_canPin)
            {
                row.SkipPeer(Peer.Threads, NoPinning + ": the kernel gives threads every CPU");
                return;
            }
            Record(c, p => OsThreads.CpuNs(Jobs, rounds, p, expected));
        });
        Try(row, Peer.Tasks, c => Record(c, p => DotNetTasks.CpuNs(Jobs, rounds, p, expected)));
        Go(row, ("time1", "cpu1"), ("timeN", "cpuN"));
        Cell go = row.Cells[Peer.Go];
        if (go.Get("time1") is double g1 && go.Get("timeN") is double gn)
        {
            go.Set("time1", g1 / 1e6);
            go.Set("timeN", gn / 1e6);
            go.Set("speedup", g1 / gn);
        }
        else
        {
            go.Skip("speedup", go.Missing.GetValueOrDefault("time1") ?? go.Missing.GetValueOrDefault("timeN") ?? "no Go figures");
        }
        return row;
    }

    private Row Identity()
    {
        var row = new Row
        {
            Id = "identity",
            Difference = "Local storage",
            Title = "goroutines have no identity: a thread-local does not follow them",
            How = Inv($"GOMAXPROCS {_procs}. A unit stores a value in a thread-local ([ThreadStatic]) and in its own local storage, then sleeps {IdentitySleep.TotalMicroseconds:0} us at a time ") +
                  Inv($"(at most {MaxSleeps:N0} times) until it wakes on another OS thread, and reads both. A managed goroutine's own storage is Spindle's GoroutineLocal<T>, a Task's AsyncLocal<T>; ") +
                  "C and Go have none (Go leaves it out on purpose). Then the cost of one read of each kind of local value, through a call that is not inlined.",
            Metrics =
            [
                new("sleeps", "sleeps until it woke on another thread", "sleeps", Better.Neither),
                new("read", "a read of its local value", "ns", Better.Neither),
            ],
        };
        string notMoved = Inv($"it did not wake on another thread within {MaxSleeps:N0} sleeps (nothing to show)");
        Native(row, (n, c) =>
        {
            if (_procs < 2)
                c.Skip("sleeps", "needs at least 2 processors (--maxprocs 2)");
            else
            {
                var (sleeps, first, last) = n.Identity(MaxSleeps, (long)IdentitySleep.TotalNanoseconds, _procs);
                if (first != last)
                {
                    c.Set("sleeps", sleeps);
                    c.Note(Inv($"OS thread {first}, then {last}: a _Thread_local value would have stayed on {first}"), "sleeps");
                }
                else
                {
                    c.Skip("sleeps", notMoved);
                }
            }
            c.Skip("read", "C goroutines have no local storage in Spindle's C API; a _Thread_local value belongs to the worker thread");
        });
        Try(row, Peer.Managed, c =>
        {
            if (_procs < 2)
                c.Skip("sleeps", "needs at least 2 processors (--maxprocs 2)");
            else
            {
                IdentityDemo.Outcome o = IdentityDemo.OfGoroutine(_procs, MaxSleeps, IdentitySleep);
                if (o.Moved)
                {
                    c.Set("sleeps", o.Sleeps);
                    foreach (var (text, held) in o.Claims("managed goroutine", "GoroutineLocal<T>"))
                        row.Claims.Add(new Claim(text, held));
                }
                else
                {
                    c.Skip("sleeps", notMoved);
                }
            }
            c.Set("read", IdentityDemo.GoroutineLocalReadNs(_b));
            c.Note("GoroutineLocal<long>.Value", "read");
        });
        Try(row, Peer.Threads, c =>
        {
            var (kept, sleeps) = IdentityDemo.OfThread(100, IdentitySleep);
            row.Claims.Add(new Claim(Inv($"an OS thread is its own identity: its [ThreadStatic] value stayed through {sleeps} sleeps"), kept));
            c.Skip("sleeps", "never: a thread does not move, and its [ThreadStatic] value stays with it");
            c.Set("read", IdentityDemo.ThreadStaticReadNs(_b));
            c.Note(Inv($"a [ThreadStatic] long; a ThreadLocal<long>.Value read takes {IdentityDemo.ThreadLocalReadNs(_b):0.0} ns"), "read");
        });
        Try(row, Peer.Tasks, c =>
        {
            IdentityDemo.Outcome o = IdentityDemo.OfTask(200, TimeSpan.FromMilliseconds(1));
            if (o.Moved)
            {
                c.Set("sleeps", o.Sleeps);
                foreach (var (text, held) in o.Claims("Task", "AsyncLocal<T>"))
                    row.Claims.Add(new Claim(text, held));
            }
            else
            {
                c.Skip("sleeps", "it did not resume on another pool thread within 200 delays of 1 ms");
            }
            c.Set("read", IdentityDemo.AsyncLocalReadNs(_b));
            c.Note("sleeps of Task.Delay(1 ms)", "sleeps");
            c.Note("AsyncLocal<long>.Value", "read");
        });
        Cell go = row.Cells[Peer.Go];
        if (_goFigures is JsonElement g && g.TryGetProperty("identityParks", out JsonElement parks) &&
            g.GetProperty("identityFirst").GetInt64() != g.GetProperty("identityLast").GetInt64())
            go.Set("sleeps", parks.GetDouble());
        else
            go.Skip("sleeps", _goFigures is null ? _goWhy ?? "the Go program did not run" : notMoved);
        go.Skip("read", "Go has no goroutine-local storage, on purpose (nor a goroutine id in its API)");
        return row;
    }

    /// <summary>The infrastructure row's limits, once the stacks row has the parked memory.</summary>
    private void Limits(Row spawn, Row stacks)
    {
        long? available = SystemInfo.ReadKilobytes("/proc/meminfo", "MemAvailable");
        foreach (Peer p in new[] { Peer.Native, Peer.Managed, Peer.Tasks, Peer.Go })
        {
            Cell cell = spawn.Cells[p];
            double? each = stacks.Cells[p].Get("park100k") ?? stacks.Cells[p].Get("park10k");
            if (available is null)
                cell.Skip("limit", "the memory available cannot be read here (/proc/meminfo)");
            else if (each is null)
                cell.Skip("limit", "no parked-memory figure to estimate it from");
            else
            {
                cell.Set("limit", available.Value / each.Value);
                cell.Note(Inv($"an estimate: {available.Value / (1024 * 1024):N0} MiB available / {each.Value:N0} bytes each"), "limit");
            }
        }
        Cell threads = spawn.Cells[Peer.Threads];
        var (limit, name) = ThreadCeiling();
        if (limit is long l)
        {
            threads.Set("limit", l);
            threads.Note($"the kernel's limit: {name}", "limit");
        }
        else
        {
            threads.Skip("limit", name);
        }
    }

    /// <summary>The kernel's tightest limit on the threads of one program, whatever the memory.</summary>
    private static (long? Limit, string Name) ThreadCeiling()
    {
        if (!OperatingSystem.IsLinux())
            return (null, "the kernel's limits are read on Linux only");
        var limits = new List<(long, string)>();
        if (SystemInfo.ReadNumber("/proc/sys/kernel/threads-max") is long t)
            limits.Add((t, Inv($"kernel.threads-max {t:N0}")));
        if (SystemInfo.ReadNumber("/sys/fs/cgroup/pids.max") is long p && p != long.MaxValue)
            limits.Add((p, Inv($"cgroup pids.max {p:N0}")));
        if (Environment.UserName != "root" && SystemInfo.ProcessLimit() is long u)
            limits.Add((u, Inv($"ulimit -u {u:N0}")));
        if (SystemInfo.ReadNumber("/proc/sys/vm/max_map_count") is long m)
        {
            double perThread = SystemInfo.MappingsPerThread();
            limits.Add(((long)(m / perThread), Inv($"vm.max_map_count {m:N0} over the {perThread:0.#} mappings a thread adds (measured)")));
        }
        if (limits.Count == 0)
            return (null, "no limit could be read");
        var (limit, name) = limits.MinBy(x => x.Item1);
        return (limit, name);
    }

    /// <summary>Issue 18's targets, each met or missed (or why it cannot be judged).</summary>
    private static void Targets(Report report)
    {
        Row Find(string id) => report.Rows.Single(r => r.Id == id);
        Row speed = Find("speed"), spawn = Find("infrastructure"), stacks = Find("stacks"), resources = Find("resources");
        foreach (Peer g in new[] { Peer.Native, Peer.Managed })
        {
            string who = g == Peer.Native ? "native" : "managed";
            speed.AddTarget($"{who} goroutine ping-pong at least 10x faster than OS threads", "pingpong", g, Peer.Threads, 10);
            speed.AddTarget($"{who} goroutine ping-pong at least 5x faster than .NET async channels", "pingpong", g, Peer.Tasks, 5);
            spawn.AddTarget($"{who} goroutine spawn + complete at most Task.Run's", "spawn", g, Peer.Tasks, 1);
            // Parked memory: at 100,000 where both were measured there, else at 10,000.
            string Park(Peer against) =>
                stacks.Cells[g].Get("park100k") is not null && stacks.Cells[against].Get("park100k") is not null ? "park100k" : "park10k";
            string At(string metric) => metric == "park100k" ? "100,000" : "10,000";
            string goMetric = Park(Peer.Go), threadMetric = Park(Peer.Threads);
            stacks.AddTarget($"{who} goroutine parked memory below Go's (at {At(goMetric)})", goMetric, g, Peer.Go, 1, strict: true);
            stacks.AddTarget($"{who} goroutine parked memory at least 10x below a parked OS thread's (at {At(threadMetric)})", threadMetric, g, Peer.Threads, 10);
            resources.AddTarget($"{who} goroutine CPU-bound speed-up from 1 to {report.MaxProcs} processors at least 1.9x", "speedup", g, null, 1.9);
        }
    }
}
