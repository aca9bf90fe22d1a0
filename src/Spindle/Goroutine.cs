using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>A G: one goroutine. Reused through free lists, so spawning allocates nothing
/// in steady state.</summary>
internal sealed unsafe partial class Goroutine
{
    /// <summary>Its record in the native run queues; made by the scheduler's
    /// <see cref="GoroutineTable"/>, which maps the record back to this G.</summary>
    public readonly sp_g* Native;

    public Goroutine(sp_g* native, Scheduler scheduler)
    {
        Native = native;
        Scheduler = scheduler;
    }

    /// <summary>Numbered by the native record (1, 2, ... in each runtime).</summary>
    public long Id => Native->id;
    public GoroutineKind Kind
    {
        get => (Native->flags & SP_G_MANAGED) != 0 ? GoroutineKind.Managed : GoroutineKind.Native;
        set => Native->flags = value == GoroutineKind.Managed ? Native->flags | SP_G_MANAGED : Native->flags & ~SP_G_MANAGED;
    }
    /// <summary>Kept in the native record, where the native run loop updates it for the
    /// goroutines it switches between by itself.</summary>
    public GoroutineState State
    {
        get => (GoroutineState)Volatile.Read(ref Native->state);
        set => Volatile.Write(ref Native->state, (int)value);
    }
    /// <summary>In the native record too: native goroutines that park in a channel
    /// without a runtime call set it there.</summary>
    public WaitReason Reason
    {
        get => (WaitReason)Native->wait_reason;
        set => Native->wait_reason = (int)value;
    }
    /// <summary>When it entered its state, in the coarse clock's milliseconds as
    /// <see cref="CoarseClock"/> holds them: read on every switch, the clock itself would
    /// cost a system call each time on this VM. In the native record, stamped by native
    /// spawns and exits too (not by the run loop's switches: one more cache line each).</summary>
    public long StateSince
    {
        get => Native->since_ms;
        set => Native->since_ms = value;
    }

    // Native goroutines.
    /// <summary>Its coroutine (also in the native record, where the run loop reads it).</summary>
    public sp_coro* Coro
    {
        get => Native->coro;
        set => Native->coro = value;
    }

    /// <summary>A runtime call that was posted while its worker had lost its processor:
    /// served by whichever worker runs the goroutine next, before resuming it.</summary>
    public bool RequestPending
    {
        get => (Native->hold & HoldRequest) != 0;
        set => Native->hold = value ? Native->hold | HoldRequest : Native->hold & ~HoldRequest;
    }

    public bool InBlockingSection
    {
        get => (Native->hold & HoldBlocking) != 0;
        set => Native->hold = value ? Native->hold | HoldBlocking : Native->hold & ~HoldBlocking;
    }

    // Either keeps the native run loop from resuming it: the scheduler acts first.
    private const int HoldRequest = 1, HoldBlocking = 2;

    // Managed goroutines.
    public Func<Task>? Body;
    public Task? Task;
    /// <summary>The scheduler watches Task's completion (the body may end off the
    /// goroutine, after ConfigureAwait(false)).</summary>
    public bool TaskWatched;
    // Continuations waiting to run as the goroutine's next steps, in order: a
    // SendOrPostCallback (its SynchronizationContext's posts) or an Action<object?> (a
    // Spindle wait completing). Almost always at most one: it lives in fields, and only
    // the ones behind it in a queue. Changed under LockSteps.
    private Delegate? _nextStep;
    private object? _nextStepState;
    private Queue<(Delegate Callback, object? State)>? _laterSteps;
    private int _steps;

    /// <summary>Continuations queued and not yet run (under LockSteps).</summary>
    public int PendingSteps => _steps;

    /// <summary>Queues a step (under LockSteps).</summary>
    public void AddStep(Delegate callback, object? state)
    {
        if (_steps++ == 0)
        {
            _nextStep = callback;
            _nextStepState = state;
        }
        else
        {
            (_laterSteps ??= new()).Enqueue((callback, state));
        }
    }

    /// <summary>Takes the first queued step (under LockSteps; there is one).</summary>
    public (Delegate Callback, object? State) TakeStep()
    {
        (Delegate Callback, object? State) step = (_nextStep!, _nextStepState);
        if (--_steps == 0)
        {
            _nextStep = null;
            _nextStepState = null;
        }
        else
        {
            (_nextStep, _nextStepState) = _laterSteps!.Dequeue();
        }
        return step;
    }

    /// <summary>Forgets every queued step (a goroutine that is freed).</summary>
    public void ClearSteps()
    {
        _nextStep = null;
        _nextStepState = null;
        _laterSteps?.Clear();
        _steps = 0;
    }

    // A word taken with one compare-exchange: a step's critical sections are a few
    // instructions, and Monitor and Lock read the managed thread id on every enter.
    private int _stepsLock;

    public void LockSteps()
    {
        if (Interlocked.CompareExchange(ref _stepsLock, 1, 0) != 0)
            LockStepsContended();
    }

    private void LockStepsContended()
    {
        var spin = new SpinWait();
        do
            spin.SpinOnce(sleep1Threshold: -1);
        while (Volatile.Read(ref _stepsLock) != 0 || Interlocked.CompareExchange(ref _stepsLock, 1, 0) != 0);
    }

    public void UnlockSteps() => Volatile.Write(ref _stepsLock, 0);
    /// <summary>Set by a Spindle awaitable when it parks the goroutine, so the wait is
    /// known to be on the runtime (and can count towards a deadlock).</summary>
    public WaitReason ParkReason;
    /// <summary>Set with ParkReason when what it waits on is visible to threads outside
    /// Spindle (a channel or mutex made in C#): such a wait never counts as deadlocked.</summary>
    public bool ParkOutside;
    /// <summary>Its wait is counted in the scheduler's ExternalWaits (managed goroutines).</summary>
    public bool CountedOutside;
    /// <summary>A managed goroutine's wait in the engine (a channel operation, select,
    /// lock, wait group wait or sleep), if it is parked in one.</summary>
    public AsyncParty? ParkedOn;
    /// <summary>Set with ParkedOn: the handle of the one channel, mutex or wait group it
    /// waits on (0: several, or none), which the tracer and the Spindle-Runtime events name;
    /// read and cleared when the step that parked ends.</summary>
    public ulong ParkObject;

    /// <summary>The main goroutine: its end ends the program, so the run loop leaves its
    /// exit to the scheduler.</summary>
    public bool IsMain
    {
        get => (Native->flags & SP_G_EXIT_TO_SCHEDULER) != 0;
        set => Native->flags = value ? Native->flags | SP_G_EXIT_TO_SCHEDULER : Native->flags & ~SP_G_EXIT_TO_SCHEDULER;
    }

    public void SetState(GoroutineState state, WaitReason reason = WaitReason.None) =>
        SetState(state, reason, CoarseClock.NowMs);

    /// <summary>With a millisecond time the caller already read.</summary>
    public void SetState(GoroutineState state, WaitReason reason, long nowMs)
    {
        State = state;
        Reason = reason;
        StateSince = nowMs;
    }

    public GoroutineInfo Describe(long nowMs) => new(Id, Kind, State, Reason,
        TimeSpan.FromMilliseconds(nowMs - StateSince));
}
