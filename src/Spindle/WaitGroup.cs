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
public sealed unsafe class WaitGroup
{
    private readonly ulong _handle;

    /// <summary>Creates a wait group with a zero counter. A wait group made in C# may be
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

    /// <summary>The sp_wg handle native goroutines use, valid while this object is alive
    /// (keep it reachable for as long as native code uses the handle).</summary>
    public ulong Handle => _handle;

    /// <summary>The current counter.</summary>
    public long Count => sp_host_wg_count(_handle);

    /// <summary>Adds delta (may be negative) to the counter; at zero every waiter wakes.</summary>
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

    /// <summary>Add(-1).</summary>
    public void Done() => Add(-1);

    /// <summary>Waits, blocking the calling thread, until the counter is zero. For plain
    /// threads: inside a goroutine use <see cref="WaitAsync"/>, which parks only the
    /// goroutine.</summary>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public void Wait()
    {
        ThreadParty p = ThreadParty.Rent("WaitGroup.Wait");
        sp_wakes w;
        int rc = p.Wait(sp_host_wg_wait(null, _handle, p.Party, &w));
        p.Return();
        if (rc != SP_OK)
            throw SpindleError.ForWait(rc, "waiting on a wait group");
    }

    /// <summary>Waits asynchronously until the counter is zero; in a managed goroutine
    /// this parks the goroutine, not its worker.</summary>
    public ValueTask WaitAsync()
    {
        SignalParty p = SignalParty.Rent(this);
        sp_wakes w;
        int rc = sp_host_wg_wait(p.Here, _handle, p.Party, &w);
        return p.Answer(rc, WaitReason.WaitGroup, "waiting on a wait group");
    }
}
