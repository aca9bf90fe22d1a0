using System.Threading.Tasks.Sources;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>A managed party that completes a ValueTask: in a managed goroutine the
/// continuation becomes the goroutine's next step (its SynchronizationContext); elsewhere it
/// runs on the thread pool, never inline in whoever completed it.</summary>
internal abstract unsafe class AsyncParty : NativeParty
{
    protected ManualResetValueTaskSourceCore<int> Core = new() { RunContinuationsAsynchronously = true };
    /// <summary>The goroutine that waits, if the caller is one.</summary>
    protected Goroutine? G;
    // A goroutine's own await: its continuation becomes the goroutine's next step when the
    // party completes, with no SynchronizationContext post and no ExecutionContext capture
    // in between (Core handles every other awaiter). _phase: Waiting, Registered, Done.
    private Action<object?>? _continuation;
    private object? _continuationState;
    private int _phase;
    private const int Waiting = 0, Registered = 1, Done = 2;
    /// <summary>What must stay alive while the party waits (the channel, the select).</summary>
    protected object? Keep;

    protected AsyncParty(int cases, int extraBytes) : base(cases, extraBytes) { }

    /// <summary>The worker the party was rented on (its spare is where it goes back), or
    /// null off the workers.</summary>
    protected Machine? Worker;
    /// <summary>The run queue of the processor the caller holds (for the engine call: what
    /// it readies runs next there), or null.</summary>
    public sp_runq* Here;

    /// <summary>Readies the party for one operation of cases cases by the caller, on worker
    /// (the caller's Machine, looked up once per operation).</summary>
    protected void Begin(Machine? worker, int cases, object? keep)
    {
        Prepare(SP_PARTY_MANAGED, cases);
        Core.Reset();
        _phase = Waiting;
        Worker = worker;
        G = Goroutine.ManagedGoroutineOf(worker);
        Processor? p = worker?.P;
        Here = p is null ? null : p.RunQ.Native;
        Keep = keep;
    }

    public short Version => Core.Version;

    /// <summary>The engine answered the call that would have parked: at once (SP_OK or an
    /// error), or SP_PARKED, and the caller's goroutine now waits for reason.</summary>
    protected bool Parked(int rc, WaitReason reason)
    {
        if (rc != SP_PARKED)
            return false;
        if (G is not null)
        {
            // Anything a C# caller names is visible to threads outside the runtime: such a
            // wait never counts towards a deadlock. A sleep's timer counts on its own.
            G.ParkReason = reason;
            G.ParkOutside = reason != WaitReason.Sleep;
            G.ParkedOn = this;
        }
        return true;
    }

    protected override void Completed()
    {
        Goroutine? g = G;
        if (g is not null && g.ParkedOn == this)
            g.ParkedOn = null;
        Core.SetResult(0);
        if (Interlocked.Exchange(ref _phase, Done) == Registered)
            PostContinuation(g!);
    }

    private void PostContinuation(Goroutine g)
    {
        Action<object?> continuation = _continuation!;
        object? state = _continuationState;
        _continuation = null;
        _continuationState = null;
        g.Scheduler.PostStep(g, continuation, state);
    }

    /// <summary>Stops waiting (the goroutine is discarded): out of every queue, never
    /// completed.</summary>
    public void Abandon() => sp_party_cancel(Party);

    /// <summary>Reads the outcome once the ValueTask is awaited.</summary>
    protected int TakeResult(short token)
    {
        Core.GetResult(token);
        G = null;
        Keep = null;
        return Party->result;
    }

    public ValueTaskSourceStatus GetStatus(short token) => Core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags)
    {
        Goroutine? g = G;
        if (g is null || (flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 ||
            (flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) == 0 ||
            SynchronizationContext.Current != g || token != Core.Version)
        {
            Core.OnCompleted(continuation, state, token, flags);
            return;
        }
        _continuation = continuation;
        _continuationState = state;
        if (Interlocked.CompareExchange(ref _phase, Registered, Waiting) == Done)
            PostContinuation(g); // completed meanwhile: still the goroutine's next step, never inline
    }
}

/// <summary>A wait with nothing to carry: a mutex lock, a wait group wait, a sleep (its
/// timer lives in the party's memory).</summary>
internal sealed unsafe class SignalParty : AsyncParty, IValueTaskSource
{
    public SignalParty() : base(1, (int)SP_TIMER_BYTES) { }

    public static SignalParty Rent(object? keep)
    {
        Machine? worker = Machine.CurrentMachine;
        SignalParty p = PartyPool<SignalParty>.Rent(worker);
        p.Begin(worker, 1, keep);
        return p;
    }

    private void Release()
    {
        G = null;
        Keep = null;
        PartyPool<SignalParty>.Return(this, Worker);
    }

    /// <summary>The answer of the call that would have parked: a completed ValueTask (or a
    /// failed one), or one that completes when the engine resolves the party.</summary>
    public ValueTask Answer(int rc, WaitReason reason, string what)
    {
        if (Parked(rc, reason))
            return new ValueTask(this, Version);
        Release();
        return rc == SP_OK ? ValueTask.CompletedTask : ValueTask.FromException(SpindleError.ForWait(rc, what));
    }

    public void GetResult(short token)
    {
        int result = TakeResult(token);
        PartyPool<SignalParty>.Return(this, Worker);
        if (result != SP_OK)
            throw SpindleError.ForWait(result, "wait");
    }
}

/// <summary>A plain thread blocked in the engine: it waits on the party's wake word inside
/// sp_party_wait, a blocking call (the GC runs meanwhile).</summary>
internal sealed unsafe class ThreadParty : NativeParty
{
    public ThreadParty() : this(1) { }

    public ThreadParty(int cases) : base(cases, 0) { }

    /// <summary>A party for the calling thread, refused on a worker thread, where blocking
    /// would stall every goroutine of its processor.</summary>
    public static ThreadParty Rent(string what)
    {
        if (Machine.CurrentMachine is not null)
            throw new InvalidOperationException(
                $"spindle: {what} would block a worker thread; in a goroutine use the Async method");
        ThreadParty p = PartyPool<ThreadParty>.Rent(null);
        p.Ready(1);
        return p;
    }

    public void Ready(int cases) => Prepare(SP_PARTY_THREAD, cases);

    /// <summary>Waits until the engine completes it; returns its result.</summary>
    public int Wait(int rc) => rc == SP_PARKED ? sp_party_wait(Party) : rc;

    public void Return() => PartyPool<ThreadParty>.Return(this, null);

    protected override void Completed()
    {
        // A thread's party is woken through its wake word, never handed to the host.
    }
}
