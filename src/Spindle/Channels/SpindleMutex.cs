using System.Threading.Tasks.Sources;

namespace Spindle;

/// <summary>
/// Go's sync.Mutex for goroutines and threads: <see cref="LockAsync"/> parks a managed
/// goroutine (not its worker), <see cref="Lock"/> blocks a plain thread, and native
/// goroutines lock the same mutex through <see cref="Handle"/> (sp_mutex_lock). It is not
/// owned: any party may unlock it, as in Go. Waiters get it in arrival order.
/// </summary>
public sealed class SpindleMutex
{
    internal readonly MutexCore Core;

    /// <summary>Makes an unlocked mutex.</summary>
    public SpindleMutex() => Core = new MutexCore(visibleOutside: true);

    private SpindleMutex(MutexCore core) => Core = core;

    /// <summary>The mutex a native goroutine made (sp_mutex_make).</summary>
    /// <exception cref="ObjectDisposedException">The handle is stale or unknown.</exception>
    public static SpindleMutex FromHandle(ulong handle)
    {
        MutexCore core = Registry.Mutexes.Get(handle)
            ?? throw new ObjectDisposedException("SpindleMutex", $"spindle: mutex handle 0x{handle:x} is released or unknown");
        core.VisibleOutside = true;
        return new SpindleMutex(core);
    }

    /// <summary>The sp_mutex handle native goroutines use (registered on first use).</summary>
    public ulong Handle
    {
        get
        {
            lock (Core)
                return Core.Handle != 0 ? Core.Handle : Registry.Mutexes.Add(Core);
        }
    }

    /// <summary>Locks it if it is free; false otherwise.</summary>
    public bool TryLock() => Core.TryLock();

    /// <summary>Locks it, blocking the calling thread until it is free. For plain threads;
    /// in a goroutine use <see cref="LockAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public void Lock()
    {
        if (Core.TryLock())
            return;
        ThreadParker p = ThreadParker.Rent(0);
        if (!Core.LockOrPark(p))
            p.WaitForWake();
        p.Free();
    }

    /// <summary>Locks it; in a managed goroutine, waiting parks the goroutine.</summary>
    public ValueTask LockAsync()
    {
        if (Core.TryLock())
            return ValueTask.CompletedTask;
        MutexAsyncOp op = MutexAsyncOp.Rent();
        short token = op.Version;
        if (Core.LockOrPark(op))
            op.CompleteNow();
        return new ValueTask(op, token);
    }

    /// <summary>Unlocks it, handing it to the longest waiter if any.</summary>
    /// <exception cref="InvalidOperationException">It is not locked (Go: "unlock of
    /// unlocked mutex").</exception>
    public void Unlock()
    {
        if (Core.Unlock() != Interop.SpindleNative.SP_OK)
            throw new InvalidOperationException("spindle: unlock of unlocked mutex");
    }

    private sealed class MutexAsyncOp : AsyncParker, IValueTaskSource
    {
        public static MutexAsyncOp Rent()
        {
            MutexAsyncOp op = ObjectPool<MutexAsyncOp>.Rent();
            op.Begin(0);
            return op;
        }

        public void GetResult(short token)
        {
            Core.GetResult(token);
            G = null;
            ObjectPool<MutexAsyncOp>.Return(this);
        }

        public ValueTaskSourceStatus GetStatus(short token) => Core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token,
            ValueTaskSourceOnCompletedFlags flags) => Core.OnCompleted(continuation, state, token, flags);
    }
}
