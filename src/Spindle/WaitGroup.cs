using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>
/// Go's sync.WaitGroup: a counter that goroutines wait on until it drops to zero. Usable from
/// managed goroutines (<see cref="WaitAsync"/>), any async code, plain threads
/// (<see cref="Wait"/>) and native goroutines (through <see cref="Handle"/>, an sp_wg). A
/// negative counter is refused and the counter left as it was. The wait group lives in
/// libspindle's engine; this object names it, and releases it when collected.
/// </summary>
public sealed unsafe class WaitGroup : IWaitedOn
{
    private readonly ulong _handle;

    ulong IWaitedOn.WaitedOnHandle => _handle;

    /// <summary>Creates a wait group with a zero counter (Go's zero <c>sync.WaitGroup</c>). A wait group made in C# may be
    /// used by threads outside Spindle, so goroutines waiting on it never count as
    /// deadlocked. It may be made before <see cref="Runtime.Run(Func{Task}, int)"/>.</summary>
    public WaitGroup()
    {
        ulong h;
        SpindleError.ThrowIfError(sp_host_wg_make(&h), "spindle: making a wait group");
        _handle = h;
    }

    /// <summary>Releases the wait group once nothing references it.</summary>
    ~WaitGroup()
    {
        sp_wakes w;
        sp_host_release(_handle, &w);
        Engine.Finish(w);
    }

    /// <summary>The sp_wg handle native goroutines use (Go has none), valid while this object is alive
    /// (keep it reachable for as long as native code uses the handle).</summary>
    public ulong Handle => _handle;

    /// <summary>The current counter (Go has no such read: for tests and diagnostics).</summary>
    public long Count => sp_host_wg_count(_handle);

    /// <summary>Adds delta (may be negative) to the counter; at zero every waiter wakes (Go's
    /// WaitGroup.Add).</summary>
    /// <exception cref="InvalidOperationException">The counter would become negative.</exception>
    public void Add(int delta)
    {
        sp_wakes w;
        int rc = sp_host_wg_add(Engine.Here, _handle, delta, &w);
        Engine.Finish(w);
        if (rc == SP_EINVAL)
            throw new InvalidOperationException($"spindle: wait group counter would become negative ({Count} + {delta})");
        SpindleError.ThrowIfError(rc, "spindle: adding to a wait group");
    }

    /// <summary>Add(-1) (Go's WaitGroup.Done).</summary>
    public void Done() => Add(-1);

    /// <summary>Starts body as a managed goroutine counted by this group (Go 1.25's
    /// WaitGroup.Go: Add(1), then Done when body ends, however it ends). As in Go, an
    /// exception from body ends the program (<see cref="Runtime.Run(Func{Task}, int)"/>
    /// throws <see cref="GoroutineFailedException"/>); <see cref="ErrGroup"/> collects
    /// errors instead.</summary>
    /// <exception cref="ArgumentNullException">body is null.</exception>
    /// <exception cref="InvalidOperationException">No runtime is running (the counter is
    /// left as it was).</exception>
    public void Go(Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Add(1);
        try
        {
            Runtime.Go(() => WaitGroupBody.Run(this, body));
        }
        catch
        {
            Add(-1);
            throw;
        }
    }

    /// <summary>Waits, blocking the calling thread, until the counter is zero (Go's
    /// WaitGroup.Wait). For plain threads: inside a goroutine use <see cref="WaitAsync"/>,
    /// which parks only the goroutine.</summary>
    /// <param name="cancellationToken">Ends the wait: the waiter leaves the queue.</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// the counter reached zero.</exception>
    /// <exception cref="ObjectDisposedException">The wait group was released.</exception>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public void Wait(CancellationToken cancellationToken = default)
    {
        ThreadParty p = ThreadParty.Rent("WaitGroup.Wait", cancellationToken);
        sp_wakes w;
        Outcome outcome = p.Wait(sp_host_wg_wait(null, _handle, p.Party, &w), cancellationToken);
        p.Return();
        outcome.ThrowIfCancelled();
        if (outcome.Result != SP_OK)
            throw SpindleError.ForWait(outcome.Result, "waiting on a wait group");
    }

    /// <summary>Waits asynchronously until the counter is zero (Go's WaitGroup.Wait); in a
    /// managed goroutine this parks the goroutine, not its worker.</summary>
    /// <param name="cancellationToken">Ends the wait: the waiter leaves the queue. A token
    /// already cancelled ends it at once, even at zero.</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// the counter reached zero (the exception carries the token).</exception>
    /// <exception cref="ObjectDisposedException">The wait group was released.</exception>
    public ValueTask WaitAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        SignalParty p = SignalParty.Rent(this, "waiting on a wait group");
        sp_wakes w;
        int rc = sp_host_wg_wait(p.Here, _handle, p.Party, &w);
        return p.Answer(rc, WaitReason.WaitGroup, cancellationToken);
    }
}

/// <summary>The goroutine of <see cref="WaitGroup.Go"/> (async code cannot live in
/// WaitGroup's unsafe context).</summary>
internal static class WaitGroupBody
{
    public static async Task Run(WaitGroup group, Func<Task> body)
    {
        try
        {
            await body();
        }
        finally
        {
            group.Done();
        }
    }
}
