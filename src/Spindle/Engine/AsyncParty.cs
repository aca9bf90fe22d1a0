using System.Threading.Tasks.Sources;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>
/// A host party whose wait a <see cref="CancellationToken"/> may end (spindle_host.h's
/// sp_party_cancel). Once the engine has queued the party (SP_PARKED), the token's callback
/// may run at any moment on any thread while a counterpart completes the party at the same
/// moment on another. sp_party_cancel makes the same claim a completer makes, so exactly one
/// of them performs the wait: a cancel that loses (SP_ESTATE) leaves the outcome to the
/// completion (the value was sent, received, the lock taken), and the caller never sees a
/// cancellation then.
/// <para>A callback acts only while the gate is open: from the moment the party is queued
/// for a wait with a token (never before: the call that queues it arms it afresh, which
/// would undo an earlier claim) until the wait is consumed (never after: the party may then
/// serve someone else's wait). The registration lives as long as the wait: a registration
/// kept for the next wait with an equal token would be gone after the token's source was
/// reset (CancellationTokenSource.TryReset unregisters everything), and that wait could
/// never be cancelled.</para>
/// </summary>
internal abstract unsafe class CancellableParty(int cases, int extraBytes) : NativeParty(cases, extraBytes)
{
    /// <summary>No token cancelled the wait.</summary>
    public const int NotCancelled = int.MinValue;
    /// <summary>The wait's own token cancelled it (a select's token cases give their index).</summary>
    public const int ByOwnToken = -1;

    private const int Closed = 0, Open = 1, Cancelling = 2;
    private int _gate;
    private int _cancelledBy = NotCancelled;
    /// <summary>This wait's own token (default when it has none).</summary>
    private CancellationToken _token;
    /// <summary>The wait's registration on its own token.</summary>
    private CancellationTokenRegistration _registration;

    private static readonly Action<object?> s_cancelByOwnToken = static p => ((CancellableParty)p!).Cancel(ByOwnToken);

    /// <summary>The wait's own token (default when it has none).</summary>
    protected CancellationToken Token => _token;

    /// <summary>Whether the wait's own token cancelled it (read once the engine or a
    /// canceller resolved the party).</summary>
    protected bool CancelledByOwnToken => Party->result == SP_ECANCELED && _cancelledBy == ByOwnToken;

    /// <summary>Lets token (and the select's token cases) cancel the wait the engine has just
    /// queued the party for. A token already cancelled cancels it at once, here.</summary>
    protected void Watch(CancellationToken token)
    {
        _token = token;
        if (token.CanBeCanceled)
            _registration = token.UnsafeRegister(s_cancelByOwnToken, this);
        if (!WatchCases() && !token.CanBeCanceled)
            return;
        Volatile.Write(ref _gate, Open);
        // What was cancelled while the gate was closed (a token already cancelled, whose
        // callback ran in UnsafeRegister) is cancelled now.
        int cancelled = token.IsCancellationRequested ? ByOwnToken : CancelledCase();
        if (cancelled != NotCancelled)
            Cancel(cancelled);
    }

    /// <summary>Registers the token cases of a select; false when there are none.</summary>
    protected virtual bool WatchCases() => false;

    /// <summary>The index of a token case whose token is cancelled, or NotCancelled.</summary>
    protected virtual int CancelledCase() => NotCancelled;

    /// <summary>Unregisters what <see cref="WatchCases"/> registered, waiting for a callback
    /// that runs now.</summary>
    protected virtual void EndCaseWatch() { }

    /// <summary>Cancels the wait unless a counterpart completed it first; by says which token
    /// asked (<see cref="ByOwnToken"/> or a select's case index). Does nothing while the
    /// gate is closed, or while another token cancels it.</summary>
    public void Cancel(int by)
    {
        if (Interlocked.CompareExchange(ref _gate, Cancelling, Open) != Open)
            return;
        _cancelledBy = by; // before the claim: a thread party's thread reads it as soon as it wakes
        int rc = sp_party_cancel(Party);
        Volatile.Write(ref _gate, Closed);
        if (rc == SP_OK)
            Cancelled();
    }

    /// <summary>The party was cancelled: out of every queue, never to be completed.</summary>
    protected abstract void Cancelled();

    /// <summary>Ends the watch before the party serves another wait (a canceller at work
    /// finishes first, none acts later) and says how the wait ended.</summary>
    protected Outcome EndWatch()
    {
        if (_gate != Closed)
        {
            var spin = new SpinWait();
            while (Interlocked.CompareExchange(ref _gate, Closed, Open) == Cancelling)
                spin.SpinOnce(sleep1Threshold: -1);
        }
        _registration.Dispose(); // the gate is closed: a callback running now returns at once
        _registration = default;
        EndCaseWatch();
        var outcome = new Outcome(Party->result, _cancelledBy, _token);
        _cancelledBy = NotCancelled;
        _token = default;
        return outcome;
    }

    /// <summary>Blocks the calling thread (a thread party) until the engine completes the
    /// wait it answered rc for, or a token cancels it.</summary>
    protected Outcome WaitThread(int rc, CancellationToken token)
    {
        if (rc != SP_PARKED)
            return new Outcome(rc, NotCancelled, token);
        Watch(token);
        sp_party_wait(Party);
        return EndWatch();
    }
}

/// <summary>How a wait ended: the engine's result (SP_ECANCELED when a token cancelled it),
/// which token cancelled it, and the wait's own token.</summary>
internal readonly struct Outcome(int result, int cancelledBy, CancellationToken token)
{
    public int Result => result;

    /// <summary>The select case whose token cancelled the wait, or -1.</summary>
    public int TokenCase => result == SP_ECANCELED && cancelledBy >= 0 ? cancelledBy : -1;

    /// <summary>Throws OperationCanceledException with the wait's own token if it cancelled
    /// the wait.</summary>
    public void ThrowIfCancelled()
    {
        if (result == SP_ECANCELED && cancelledBy == CancellableParty.ByOwnToken)
            throw new OperationCanceledException(token);
    }
}

/// <summary>A managed party that completes a ValueTask: in a managed goroutine the
/// continuation becomes the goroutine's next step (its SynchronizationContext); elsewhere it
/// runs on the thread pool, never inline in whoever completed it.</summary>
internal abstract unsafe class AsyncParty : CancellableParty
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
    /// error), or SP_PARKED, and the caller's goroutine now waits for reason until the
    /// engine completes the party or token cancels it.</summary>
    protected bool Parked(int rc, WaitReason reason, CancellationToken token)
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
            G.ParkObject = (Keep as IWaitedOn)?.WaitedOnHandle ?? 0;
        }
        Watch(token);
        return true;
    }

    protected override void Completed() => Resolve();

    protected override void Cancelled() => Resolve();

    /// <summary>The one way the wait ends, whoever ended it (the engine's completion or a
    /// token: the party's claim lets only one of them here): the ValueTask completes, and a
    /// goroutine's own await gets its next step, once.</summary>
    private void Resolve()
    {
        Goroutine? g = G;
        if (g is not null && g.ParkedOn == this)
            g.ParkedOn = null;
        if (CancelledByOwnToken)
            Core.SetException(new OperationCanceledException(Token));
        else
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

    /// <summary>Reads the outcome once the ValueTask is awaited (a cancellation is the
    /// caller's to throw, once the party is back in its pool).</summary>
    /// <exception cref="InvalidOperationException">The wait has not ended, or token is
    /// not the ValueTask's (it was awaited already).</exception>
    protected Outcome TakeResult(short token)
    {
        if (Core.GetStatus(token) == ValueTaskSourceStatus.Pending)
            Core.GetResult(token); // throws: the ValueTask's contract for a wait not yet done
        // Resolve completes Core before it marks the phase Done: an awaiter that saw the
        // completion in between must not give the party to its next wait yet, or that
        // late mark would end the next wait before the engine did.
        if (Volatile.Read(ref _phase) != Done)
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _phase) != Done)
                spin.SpinOnce(sleep1Threshold: -1);
        }
        Outcome outcome = EndWatch();
        Core.Reset(); // the ValueTask is spent: a second GetResult or a late check throws
        G = null;
        Keep = null;
        return outcome;
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
    private string _what = "";

    public SignalParty() : base(1, (int)SP_TIMER_BYTES) { }

    /// <summary>A party for one wait; what names it in errors ("locking a mutex").</summary>
    public static SignalParty Rent(object? keep, string what)
    {
        Machine? worker = Machine.CurrentMachine;
        SignalParty p = PartyPool<SignalParty>.Rent(worker);
        p.Begin(worker, 1, keep);
        p._what = what;
        return p;
    }

    private void Release()
    {
        G = null;
        Keep = null;
        PartyPool<SignalParty>.Return(this, Worker);
    }

    /// <summary>The answer of the call that would have parked: a completed ValueTask (or a
    /// failed one), or one that completes when the engine resolves the party or token
    /// cancels it.</summary>
    public ValueTask Answer(int rc, WaitReason reason, CancellationToken token)
    {
        if (Parked(rc, reason, token))
            return new ValueTask(this, Version);
        string what = _what;
        Release();
        return rc == SP_OK ? ValueTask.CompletedTask : ValueTask.FromException(SpindleError.ForWait(rc, what));
    }

    public void GetResult(short token)
    {
        Outcome outcome = TakeResult(token);
        string what = _what;
        PartyPool<SignalParty>.Return(this, Worker);
        outcome.ThrowIfCancelled();
        if (outcome.Result != SP_OK)
            throw SpindleError.ForWait(outcome.Result, what);
    }
}

/// <summary>A plain thread blocked in the engine: it waits on the party's wake word inside
/// sp_party_wait, a blocking call (the GC runs meanwhile).</summary>
internal sealed unsafe class ThreadParty : CancellableParty
{
    public ThreadParty() : base(1, 0) { }

    /// <summary>A party for the calling thread, refused on a worker thread, where blocking
    /// would stall every goroutine of its processor, and refused for a token already
    /// cancelled (nothing is queued then).</summary>
    /// <exception cref="OperationCanceledException">token is cancelled.</exception>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public static ThreadParty Rent(string what, CancellationToken token)
    {
        if (Machine.CurrentMachine is not null)
            throw new InvalidOperationException(
                $"spindle: {what} would block a worker thread; in a goroutine use the Async method");
        token.ThrowIfCancellationRequested();
        ThreadParty p = PartyPool<ThreadParty>.Rent(null);
        p.Prepare(SP_PARTY_THREAD, 1);
        return p;
    }

    /// <summary>Waits until the engine completes the party queued for rc (SP_PARKED) or
    /// token cancels it.</summary>
    public Outcome Wait(int rc, CancellationToken token) => WaitThread(rc, token);

    public void Return() => PartyPool<ThreadParty>.Return(this, null);

    protected override void Completed()
    {
        // A thread's party is woken through its wake word, never handed to the host.
    }

    protected override void Cancelled()
    {
        // sp_party_cancel woke the thread.
    }
}
