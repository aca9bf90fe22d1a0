using System.Diagnostics;
using Spindle.Interop;

namespace Spindle;

/// <summary>A G: one goroutine. Reused through free lists, so spawning allocates nothing
/// in steady state.</summary>
internal sealed unsafe class Goroutine
{
    public long Id;
    public GoroutineKind Kind;
    public volatile GoroutineState State;
    public WaitReason Reason;
    public long StateSince;

    /// <summary>Intrusive link for run queues, free lists and waiter lists.</summary>
    public Goroutine? Link;

    // Native goroutines.
    public sp_coro* Coro;
    /// <summary>A runtime call that was posted while its worker had lost its processor:
    /// served by whichever worker runs the goroutine next, before resuming it.</summary>
    public bool RequestPending;
    public bool InBlockingSection;

    // Managed goroutines.
    public Func<Task>? Body;
    public Task? Task;
    public GoroutineSyncContext? Context;
    public readonly Queue<(SendOrPostCallback Callback, object? State)> Steps = new();
    /// <summary>Set by a Spindle awaitable when it parks the goroutine, so the wait is
    /// known to be on the runtime (and can count towards a deadlock).</summary>
    public WaitReason ParkReason;
    /// <summary>The continuation a managed sleep resumes with when its timer fires.</summary>
    public Action? TimerContinuation;

    public bool IsMain;

    public void SetState(GoroutineState state, WaitReason reason = WaitReason.None) =>
        SetState(state, reason, Stopwatch.GetTimestamp());

    /// <summary>With a timestamp the caller already read (one clock read per switch).</summary>
    public void SetState(GoroutineState state, WaitReason reason, long now)
    {
        State = state;
        Reason = reason;
        StateSince = now;
    }

    public GoroutineInfo Describe(long now) => new(Id, Kind, State, Reason,
        Stopwatch.GetElapsedTime(StateSince, now));
}
