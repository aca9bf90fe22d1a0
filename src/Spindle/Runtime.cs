using System.Runtime.CompilerServices;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>
/// Spindle's goroutine runtime: <c>using static Spindle.Runtime;</c> and write
/// <c>Run(async () =&gt; { Go(async () =&gt; ...); await Sleep(...); })</c>, as a Go program
/// would. One runtime runs at a time in a process, for the duration of <see cref="Run(Func{Task}, int)"/>.
/// </summary>
public static unsafe class Runtime
{
    private static readonly Lock s_lock = new();
    private static Scheduler? s_current;
    private static readonly CallbackRegistry s_callbacks = new();

    internal static Scheduler? CurrentScheduler => Volatile.Read(ref s_current);

    private static Scheduler Require() =>
        CurrentScheduler ?? throw new InvalidOperationException("spindle: no runtime is running (call Runtime.Run first)");

    /// <summary>The native library's version ("MAJOR.MINOR.PATCH"). Reading it also loads
    /// libspindle, which a native goroutine program must find already loaded so that
    /// it binds to the same copy.</summary>
    public static string NativeVersion =>
        System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)SpindleNative.sp_version()) ?? "?";

    /// <summary>How this process guards goroutine stacks: "madvise-guard", "mprotect"
    /// or "windows-guard-page".</summary>
    public static string StackGuardMode =>
        System.Runtime.InteropServices.Marshal.PtrToStringUTF8(
            (nint)SpindleNative.sp_stack_guard_mode_name(SpindleNative.sp_stack_guard_mode())) ?? "?";

    /// <summary>The kind of stack native goroutines of runtimes started from now on get
    /// (a runtime reads it when it starts). Until it is set, the SPINDLE_STACKS
    /// environment variable says (default, reserved or segmented; unset or empty:
    /// <see cref="GoroutineStacks.Default"/>).</summary>
    /// <exception cref="SpindleException">SPINDLE_STACKS holds anything else (read
    /// when this is not set).</exception>
    public static GoroutineStacks Stacks
    {
        get => s_stacks ?? StacksFromEnvironment();
        set => s_stacks = Enum.IsDefined(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "spindle: not a kind of stack");
    }
    private static GoroutineStacks? s_stacks;

    /// <summary>What <see cref="Stacks"/> was set to, or null to follow SPINDLE_STACKS
    /// (tests put back what they found).</summary>
    internal static GoroutineStacks? StacksSetting
    {
        get => s_stacks;
        set => s_stacks = value;
    }

    private static GoroutineStacks StacksFromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable("SPINDLE_STACKS");
        if (string.IsNullOrEmpty(text))
            return GoroutineStacks.Default;
        // Names only: Enum.TryParse would take "7" or "-1" as a number.
        foreach (GoroutineStacks kind in Enum.GetValues<GoroutineStacks>())
            if (string.Equals(text, kind.ToString(), StringComparison.OrdinalIgnoreCase))
                return kind;
        throw new SpindleException(SP_EINVAL,
            $"spindle: SPINDLE_STACKS='{text}' is not a kind of stack: use default, reserved or segmented");
    }

    /// <summary>The most stack, in bytes, a native goroutine of a runtime started from now
    /// on may use (a runtime reads it when it starts);
    /// 0 (the default) for the native default: 256 KiB on a reserved stack, 1 GiB of
    /// segments. Going past it ends the process with a message naming the goroutine.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Neither 0 nor within 8 KiB..1 GiB.</exception>
    public static long MaxStack
    {
        get => Volatile.Read(ref s_maxStack);
        set
        {
            if (value != 0 && (value < (long)SpindleNative.SP_MIN_MAX_STACK || value > (long)SpindleNative.SP_MAX_MAX_STACK))
                throw new ArgumentOutOfRangeException(nameof(value), value, "spindle: MaxStack must be 0 or within 8 KiB..1 GiB");
            Volatile.Write(ref s_maxStack, value);
        }
    }
    private static long s_maxStack;

    /// <summary>True where native goroutines can run on 2 KiB segmented stacks (x86-64
    /// Linux); elsewhere every stack is reserved.</summary>
    public static bool SegmentedStacksAvailable => SpindleNative.sp_stack_segmented_available() != 0;

    /// <summary>True when fn (a native function's address) lies in a module built with
    /// -fsplit-stack, so that it may start on a 2 KiB segment.</summary>
    public static bool IsSplitStack(nint fn) =>
        fn != 0 && SpindleNative.sp_is_split_stack((delegate* unmanaged<void*, void>)fn) != 0;

    /// <summary>One line on the stacks native goroutines of fn (a native function's
    /// address) get here, for tools and
    /// logs: e.g. "segmented, 2 KiB to start" or "reserved, 256 KiB (segmented stacks
    /// need x86-64 Linux)".</summary>
    public static string DescribeStacks(nint fn)
    {
        string reserved = $"reserved, {(MaxStack > 0 ? MaxStack / 1024 : 256)} KiB, guards: {StackGuardMode}";
        if (Stacks == GoroutineStacks.Reserved)
            return reserved + " (as asked)";
        if (!SegmentedStacksAvailable)
            return reserved + " (segmented stacks need x86-64 Linux)";
        if (!IsSplitStack(fn))
            return reserved + " (the code was not built with -fsplit-stack)";
        return "segmented, 2 KiB to start";
    }

    /// <summary>The most processors a runtime has, as Go's _MaxGomaxprocs: larger values,
    /// from the GOMAXPROCS environment variable or <see cref="GOMAXPROCS"/>, are capped.</summary>
    public const int MaxGomaxprocs = 1024;

    /// <summary>The GOMAXPROCS a new runtime starts with: the GOMAXPROCS environment
    /// variable (a positive number, capped at <see cref="MaxGomaxprocs"/>), or the processor
    /// count when it is unset or empty.</summary>
    /// <exception cref="SpindleException">GOMAXPROCS holds anything else.</exception>
    public static int DefaultMaxProcs
    {
        get
        {
            string? text = Environment.GetEnvironmentVariable("GOMAXPROCS");
            if (string.IsNullOrEmpty(text))
                return Math.Min(Environment.ProcessorCount, MaxGomaxprocs);
            if (long.TryParse(text, out long n) && n > 0)
                return (int)Math.Min(n, MaxGomaxprocs);
            throw new SpindleException(SP_EINVAL,
                $"spindle: GOMAXPROCS='{text}' is not a positive number of processors");
        }
    }

    /// <summary>Runs main as the main goroutine until it returns, like a Go program, then
    /// stops the runtime. Goroutines still parked then are discarded.</summary>
    /// <param name="main">The main goroutine: an async method.</param>
    /// <param name="maxProcs">GOMAXPROCS; 0 or less for <see cref="DefaultMaxProcs"/>.</param>
    /// <exception cref="DeadlockException">Every goroutine was parked with nothing able to wake one.</exception>
    /// <exception cref="GoroutineFailedException">Another goroutine ended with an exception.</exception>
    /// <exception cref="InvalidOperationException">A runtime is already running.</exception>
    public static void Run(Func<Task> main, int maxProcs = 0)
    {
        ArgumentNullException.ThrowIfNull(main);
        RunWith(maxProcs, s => s.SpawnManaged(main, isMain: true));
    }

    /// <summary>Runs a native function as the main goroutine until it returns (see
    /// <see cref="Run(Func{Task}, int)"/>).</summary>
    /// <exception cref="ArgumentNullException">fn is null.</exception>
    public static void Run(delegate* unmanaged<void*, void> fn, void* arg, int maxProcs = 0)
    {
        if (fn is null)
            throw new ArgumentNullException(nameof(fn));
        RunWith(maxProcs, s => SpindleError.ThrowIfError(s.SpawnNative(fn, arg, isMain: true), "spindle: starting main"));
    }

    /// <summary>Runs the native function at address fn (a <c>void (*)(void *)</c>) as the
    /// main goroutine; see <see cref="Run(Func{Task}, int)"/>.</summary>
    public static void Run(nint fn, nint arg, int maxProcs = 0) =>
        Run((delegate* unmanaged<void*, void>)fn, (void*)arg, maxProcs);

    private static void RunWith(int maxProcs, Action<Scheduler> spawnMain)
    {
        var sched = new Scheduler(maxProcs > 0 ? Math.Min(maxProcs, MaxGomaxprocs) : DefaultMaxProcs, s_callbacks);
        lock (s_lock)
        {
            if (s_current is not null)
                throw new InvalidOperationException("spindle: a runtime is already running in this process");
            s_current = sched;
        }
        try
        {
            // Signal handlers (the .NET runtime's among them) must not run on a goroutine's
            // 2 KiB segment: move them to the alternate signal stack.
            SpindleNative.sp_signal_handlers_onstack();
            sched.Start();
            try
            {
                spawnMain(sched);
            }
            catch (Exception e)
            {
                sched.Fail(e); // the workers stop, and WaitForMain throws it
            }
            sched.WaitForMain();
        }
        finally
        {
            lock (s_lock)
                s_current = null;
        }
    }

    /// <summary>Starts an async method as a managed goroutine (Go's <c>go f()</c>). Its
    /// steps run on the runtime's workers, never on a goroutine stack. Returns its id.</summary>
    public static long Go(Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Require().SpawnManaged(body);
    }

    /// <summary>Starts the native function fn(arg) as a goroutine on its own stack.</summary>
    /// <exception cref="ArgumentNullException">fn is null.</exception>
    /// <exception cref="SpindleException">The goroutine could not be created (SP_ENOMEM).</exception>
    public static void Go(delegate* unmanaged<void*, void> fn, void* arg)
    {
        if (fn is null)
            throw new ArgumentNullException(nameof(fn));
        SpindleError.ThrowIfError(Require().SpawnNative(fn, arg), "spindle: starting a goroutine");
    }

    /// <summary>Starts the native function at address fn as a goroutine.</summary>
    public static void Go(nint fn, nint arg) => Go((delegate* unmanaged<void*, void>)fn, (void*)arg);

    /// <summary>Go's runtime.GOMAXPROCS: sets how many workers may run goroutines at once
    /// and returns the previous value; n &lt;= 0 only queries. Values above
    /// <see cref="MaxGomaxprocs"/> are capped, as Go caps them.</summary>
    public static int GOMAXPROCS(int n)
    {
        Scheduler s = Require();
        return n <= 0 ? s.MaxProcs : s.SetMaxProcs(Math.Min(n, MaxGomaxprocs));
    }

    /// <summary>Parks the calling managed goroutine for at least duration (Go's
    /// time.Sleep; outside a goroutine, a Task.Delay). Sleepers wake in deadline order, never
    /// early. Zero or a negative duration returns at once; <see cref="Timeout.InfiniteTimeSpan"/>
    /// sleeps forever (in a goroutine, with no token that can end it, nothing else can wake
    /// it, so it counts towards a deadlock).</summary>
    /// <param name="duration">How long to sleep.</param>
    /// <param name="cancellationToken">Ends the sleep early (Go's <c>select { case
    /// &lt;-time.After(d): case &lt;-ctx.Done(): }</c>): its timer leaves the heap at
    /// once.</param>
    /// <exception cref="ArgumentOutOfRangeException">duration is beyond what nanoseconds in
    /// an int64 hold (about 292 years).</exception>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// the duration passed (already cancelled: at once, whatever the duration).</exception>
    public static ValueTask Sleep(TimeSpan duration, CancellationToken cancellationToken = default)
    {
        bool forever = duration == Timeout.InfiniteTimeSpan;
        long ns = forever ? 0 : Durations.ToNanoseconds(duration, nameof(duration));
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        if (!forever && ns <= 0)
            return ValueTask.CompletedTask;
        Goroutine? g = Goroutine.Running;
        if (g is null || (forever && cancellationToken.CanBeCanceled))
            return new ValueTask(Task.Delay(duration, cancellationToken)); // a thread may end it: never a deadlock
        if (forever)
        {
            g.ParkReason = WaitReason.Sleep;
            return new ValueTask(new TaskCompletionSource().Task);
        }
        SignalParty p = SignalParty.Rent(null, "sleep");
        int rc = sp_host_sleep(p.Here, ns, p.Extra, p.Party);
        return p.Answer(rc, WaitReason.Sleep, cancellationToken);
    }

    /// <summary>Lets other goroutines run (Go's runtime.Gosched); the caller is runnable
    /// again at once. Await it, or call <see cref="YieldAwaitable.AsTask"/> for a Task.</summary>
    public static YieldAwaitable Yield() => default;

    /// <summary>Every live goroutine: id, kind, state, wait reason, time in state.</summary>
    public static IReadOnlyList<GoroutineInfo> Dump() => Require().Dump();

    /// <summary>Counters of the running runtime.</summary>
    public static RuntimeStats Stats
    {
        get
        {
            Scheduler s = Require();
            return new RuntimeStats(s.MaxProcs, s.LiveGoroutines, Volatile.Read(ref s.OwnedPs),
                Volatile.Read(ref s.PeakOwnedPs), Interlocked.Read(ref s.HogsRetaken),
                Interlocked.Read(ref s.BlockingRetaken), Interlocked.Read(ref s.CallbackFailures), s.NativeSwitches(), s.RuntimeCalls());
        }
    }

    /// <summary>Starts counting the peak of <see cref="RuntimeStats.RunningWorkers"/> afresh.</summary>
    public static void ResetPeakRunningWorkers()
    {
        Scheduler s = Require();
        Volatile.Write(ref s.PeakOwnedPs, Volatile.Read(ref s.OwnedPs));
    }

    /// <summary>Registers a callback that native goroutines run with
    /// <c>sp_call(id, arg, &amp;result)</c>; returns its id (1 or more). It runs on the
    /// worker's OS stack; an exception becomes SP_ECALLBACK for the goroutine.</summary>
    public static int RegisterCallback(Func<nint, long> callback) => s_callbacks.Register(callback);

    /// <summary>Removes a callback; false if the id was not registered.</summary>
    public static bool UnregisterCallback(int id) => s_callbacks.Unregister(id);

    /// <summary>Runs a continuation as the current goroutine's next step, or on the thread
    /// pool outside a goroutine.</summary>
    internal static void ContinueSoon(Action continuation)
    {
        Goroutine? g = Goroutine.Running;
        if (g is not null)
            CurrentScheduler!.PostStep(g, Goroutine.InvokeAction, continuation);
        else
            ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
    }

    /// <summary>The awaitable of <see cref="Yield"/> (Go's runtime.Gosched).</summary>
    public readonly struct YieldAwaitable : ICriticalNotifyCompletion
    {
        /// <summary>Returns this awaitable as its own awaiter (Go has no awaiters: Gosched returns when the goroutine runs again).</summary>
        public YieldAwaitable GetAwaiter() => this;
        /// <summary>Always false: yielding always gives others a turn, as Gosched does.</summary>
        public bool IsCompleted => false;
        /// <summary>Nothing to return (Gosched returns nothing).</summary>
        public void GetResult() { }
        /// <summary>Runs continuation as the goroutine's next step, once others had their turn
        /// (where Go's Gosched returns).</summary>
        public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);
        /// <summary>As <see cref="OnCompleted"/>, without flowing the ExecutionContext.</summary>
        public void UnsafeOnCompleted(Action continuation) => ContinueSoon(continuation);
        /// <summary>The yield as a Task, for Task.WhenAny and Task.WhenAll: it completes
        /// once others had their turn.</summary>
        public Task AsTask()
        {
            var yielded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            ContinueSoon(yielded.SetResult);
            return yielded.Task;
        }
    }
}

/// <summary>Counters of a running runtime.</summary>
/// <param name="MaxProcs">GOMAXPROCS.</param>
/// <param name="LiveGoroutines">Goroutines started and not finished.</param>
/// <param name="RunningWorkers">Workers holding a processor now (never above GOMAXPROCS).</param>
/// <param name="PeakRunningWorkers">The most seen at once since the last reset or GOMAXPROCS change.</param>
/// <param name="HogsRetaken">Processors the monitor took from goroutines that ran too long without a runtime call.</param>
/// <param name="BlockingRetaken">Processors the monitor took from blocking calls.</param>
/// <param name="CallbackFailures">Callbacks that threw.</param>
/// <param name="NativeSwitches">Switches the native run loop made by itself, from a native
/// goroutine that yielded or parked in a channel straight to the next one, without managed
/// code in between.</param>
/// <param name="RuntimeCalls">Calls of native goroutines the managed scheduler served (a
/// channel operation a goroutine completed or parked in by itself is not one).</param>
public sealed record RuntimeStats(int MaxProcs, int LiveGoroutines, int RunningWorkers, int PeakRunningWorkers,
    long HogsRetaken, long BlockingRetaken, long CallbackFailures, long NativeSwitches, long RuntimeCalls);
