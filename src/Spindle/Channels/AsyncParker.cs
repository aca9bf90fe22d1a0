using System.Threading.Tasks.Sources;

namespace Spindle;

/// <summary>Async code waiting in a channel operation, select or mutex lock: completes a
/// ValueTask. In a managed goroutine the continuation becomes the goroutine's next step
/// (its SynchronizationContext); elsewhere it runs on the thread pool, never inline in
/// the waker.</summary>
internal abstract class AsyncParker : Parker
{
    protected ManualResetValueTaskSourceCore<int> Core = new() { RunContinuationsAsynchronously = true };

    /// <summary>Prepares for an operation of n cases by the calling goroutine, if any.</summary>
    protected void Begin(int cases)
    {
        Reset(cases);
        Core.Reset();
        G = GoroutineSyncContext.CurrentGoroutine;
    }

    public short Version => Core.Version;

    /// <summary>Completes at once: the operation needed no wait.</summary>
    public void CompleteNow() => Core.SetResult(Chosen);

    public override void BeforePark(WaitReason reason, bool outside)
    {
        if (G is null)
            return;
        G.ParkReason = reason;
        G.ParkOutside = outside;
        G.ParkedOn = this;
    }

    protected override void OnWake()
    {
        if (G is not null)
            G.ParkedOn = null;
        Core.SetResult(Chosen);
    }
}
