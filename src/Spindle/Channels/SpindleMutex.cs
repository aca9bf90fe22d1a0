using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>
/// Go's sync.Mutex for goroutines and threads: <see cref="LockAsync"/> parks a managed
/// goroutine (not its worker), <see cref="Lock"/> blocks a plain thread, and native
/// goroutines lock the same mutex through <see cref="Handle"/> (sp_mutex_lock). It is not
/// owned: any party may unlock it, as in Go. An unlock hands it to the longest waiter, so
/// waiters get it in arrival order. The mutex lives in libspindle's engine; this object
/// names it, and releases it when collected.
/// </summary>
public sealed unsafe class SpindleMutex
{
    private readonly ulong _handle;
    private readonly bool _owned;

    /// <summary>Makes an unlocked mutex.</summary>
    public SpindleMutex()
    {
        ulong h;
        SpindleError.ThrowIfError(sp_host_mutex_make(&h), "spindle: making a mutex");
        _handle = h;
        _owned = true;
    }

    private SpindleMutex(ulong handle)
    {
        _handle = handle;
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases a mutex C# made once nothing references it.</summary>
    ~SpindleMutex()
    {
        if (!_owned)
            return;
        sp_wakes w;
        sp_host_release(_handle, &w);
        Engine.Finish(w);
    }

    /// <summary>The mutex a native goroutine made (sp_mutex_make); its runtime owns it.</summary>
    /// <exception cref="ObjectDisposedException">The handle is released or was never issued.</exception>
    /// <exception cref="ArgumentException">The handle is not a mutex's.</exception>
    public static SpindleMutex FromHandle(ulong handle)
    {
        int err = sp_host_check(handle, SP_HANDLE_MUTEX);
        if (err == SP_EINVAL)
            throw new ArgumentException($"spindle: 0x{handle:x} is not a mutex handle", nameof(handle));
        if (err != SP_OK)
            throw new ObjectDisposedException("SpindleMutex", $"spindle: mutex handle 0x{handle:x} is released or unknown");
        sp_host_mark_outside(handle);
        return new SpindleMutex(handle);
    }

    /// <summary>The sp_mutex handle native goroutines use, valid while this object is
    /// alive (keep it reachable for as long as native code uses the handle).</summary>
    public ulong Handle => _handle;

    /// <summary>Locks it if it is free; false otherwise.</summary>
    public bool TryLock()
    {
        sp_wakes w;
        int rc = sp_host_mutex_lock(Engine.Here, _handle, null, &w);
        if (rc == SP_WOULD_BLOCK)
            return false;
        SpindleError.ThrowIfError(rc, "spindle: locking a mutex");
        return true;
    }

    /// <summary>Locks it, blocking the calling thread until it is free. For plain threads
    /// (refused on a worker thread); in a goroutine use <see cref="LockAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public void Lock()
    {
        ThreadParty p = ThreadParty.Rent("SpindleMutex.Lock");
        sp_wakes w;
        int rc = p.Wait(sp_host_mutex_lock(null, _handle, p.Party, &w));
        p.Return();
        if (rc != SP_OK)
            throw SpindleError.ForWait(rc, "locking a mutex");
    }

    /// <summary>Locks it; in a managed goroutine, waiting parks the goroutine.</summary>
    public ValueTask LockAsync()
    {
        SignalParty p = SignalParty.Rent(this);
        sp_wakes w;
        int rc = sp_host_mutex_lock(p.Here, _handle, p.Party, &w);
        return p.Answer(rc, WaitReason.Mutex, "locking a mutex");
    }

    /// <summary>Unlocks it, handing it to the longest waiter if any.</summary>
    /// <exception cref="InvalidOperationException">It is not locked (Go: "unlock of
    /// unlocked mutex").</exception>
    public void Unlock()
    {
        sp_wakes w;
        int rc = sp_host_mutex_unlock(Engine.Here, _handle, &w);
        Engine.Finish(w);
        if (rc == SP_ESTATE)
            throw new InvalidOperationException("spindle: unlock of unlocked mutex");
        SpindleError.ThrowIfError(rc, "spindle: unlocking a mutex");
    }
}
