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
public sealed unsafe class SpindleMutex : IWaitedOn
{
    private readonly ulong _handle;
    private readonly bool _owned;

    ulong IWaitedOn.WaitedOnHandle => _handle;

    /// <summary>Makes an unlocked mutex (Go's zero <c>sync.Mutex</c>).</summary>
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

    /// <summary>The mutex a native goroutine made (sp_mutex_make); its runtime owns it. Go has
    /// no such bridge.</summary>
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

    /// <summary>The sp_mutex handle native goroutines use (Go has none), valid while this object is
    /// alive (keep it reachable for as long as native code uses the handle).</summary>
    public ulong Handle => _handle;

    /// <summary>Locks it if it is free; false otherwise (Go's Mutex.TryLock).</summary>
    /// <exception cref="ObjectDisposedException">The mutex was released.</exception>
    public bool TryLock()
    {
        sp_wakes w;
        int rc = sp_host_mutex_lock(Engine.Here, _handle, null, &w);
        if (rc == SP_WOULD_BLOCK)
            return false;
        if (rc != SP_OK)
            throw SpindleError.ForWait(rc, "locking a mutex");
        return true;
    }

    /// <summary>Locks it, blocking the calling thread until it is free (Go's Mutex.Lock).
    /// For plain threads (refused on a worker thread); in a goroutine use
    /// <see cref="LockAsync"/>.</summary>
    /// <param name="cancellationToken">Ends the wait: the waiter leaves the queue and the
    /// mutex is not locked by it. A lock handed over before the cancellation stands.</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// the lock was taken.</exception>
    /// <exception cref="ObjectDisposedException">The mutex was released.</exception>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public void Lock(CancellationToken cancellationToken = default)
    {
        ThreadParty p = ThreadParty.Rent("SpindleMutex.Lock", cancellationToken);
        sp_wakes w;
        Outcome outcome = p.Wait(sp_host_mutex_lock(null, _handle, p.Party, &w), cancellationToken);
        p.Return();
        outcome.ThrowIfCancelled();
        if (outcome.Result != SP_OK)
            throw SpindleError.ForWait(outcome.Result, "locking a mutex");
    }

    /// <summary>Locks it (Go's Mutex.Lock); in a managed goroutine, waiting parks the
    /// goroutine.</summary>
    /// <param name="cancellationToken">Ends the wait: the waiter leaves the queue and the
    /// mutex is not locked by it. A token already cancelled locks nothing even when the
    /// mutex is free. A lock handed over before the cancellation stands (no exception).</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// the lock was taken (the exception carries the token).</exception>
    /// <exception cref="ObjectDisposedException">The mutex was released.</exception>
    public ValueTask LockAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        SignalParty p = SignalParty.Rent(this, "locking a mutex");
        sp_wakes w;
        int rc = sp_host_mutex_lock(p.Here, _handle, p.Party, &w);
        return p.Answer(rc, WaitReason.Mutex, cancellationToken);
    }

    /// <summary>Locks it and returns a scope whose Dispose unlocks it, for
    /// <c>using (await mu.LockScopeAsync()) { ... }</c> (Go's <c>mu.Lock(); defer
    /// mu.Unlock()</c>). Dispose the scope once.</summary>
    /// <param name="cancellationToken">Ends the wait as for <see cref="LockAsync"/>.</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// the lock was taken.</exception>
    /// <exception cref="ObjectDisposedException">The mutex was released.</exception>
    public ValueTask<Scope> LockScopeAsync(CancellationToken cancellationToken = default)
    {
        ValueTask locking = LockAsync(cancellationToken);
        if (!locking.IsCompletedSuccessfully)
            return MutexScope.After(locking, this);
        // Consumed even when complete: a lock handed over just after the wait parked is a
        // pooled party's ValueTask, which goes back to its pool only through GetResult.
        locking.GetAwaiter().GetResult();
        return new ValueTask<Scope>(new Scope(this));
    }

    /// <summary>A held lock: Dispose unlocks the mutex (Go's <c>defer mu.Unlock()</c>).</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly SpindleMutex _mutex;

        internal Scope(SpindleMutex mutex) => _mutex = mutex;

        /// <summary>Unlocks the mutex (Go's deferred <c>mu.Unlock()</c>).</summary>
        /// <exception cref="InvalidOperationException">It is not locked (a scope disposed
        /// twice, or one never locked).</exception>
        public void Dispose() =>
            (_mutex ?? throw new InvalidOperationException("spindle: unlock of unlocked mutex")).Unlock();
    }

    /// <summary>Unlocks it, handing it to the longest waiter if any (Go's Mutex.Unlock).</summary>
    /// <exception cref="InvalidOperationException">It is not locked (Go: "unlock of
    /// unlocked mutex").</exception>
    /// <exception cref="ObjectDisposedException">The mutex was released.</exception>
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

/// <summary>The await of <see cref="SpindleMutex.LockScopeAsync"/> when the lock must be
/// waited for (async code cannot live in SpindleMutex's unsafe context).</summary>
internal static class MutexScope
{
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<SpindleMutex.Scope> After(ValueTask locking, SpindleMutex mutex)
    {
        await locking;
        return new SpindleMutex.Scope(mutex);
    }
}
