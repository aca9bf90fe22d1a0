using System.Runtime.CompilerServices;

namespace Spindle;

/// <summary>
/// Go's sync.WaitGroup: a counter that goroutines wait on until it drops to zero.
/// Usable from managed goroutines (<see cref="WaitAsync"/>), any async code, and plain
/// threads (<see cref="Wait"/>); native goroutines use sp_wg_* handles to wait groups in
/// native memory instead (NativeWaitGroup). A negative counter is refused and the
/// counter left as it was.
/// </summary>
public sealed class WaitGroup
{
    private readonly object _lock = new(); // a monitor: plain threads Wait on it
    private long _count;
    private readonly List<(Goroutine? Goroutine, Action Continuation)> _asyncWaiters = [];
    private int _blockedThreads;

    /// <summary>Creates a wait group with a zero counter. A wait group made in C# may be
    /// used by threads outside Spindle, so goroutines waiting on it never count as
    /// deadlocked. It may be made before <see cref="Runtime.Run(Func{Task}, int)"/>.</summary>
    public WaitGroup()
    {
    }

    /// <summary>The current counter.</summary>
    public long Count { get { lock (_lock) return _count; } }

    /// <summary>Adds delta (may be negative) to the counter; at zero every waiter wakes.</summary>
    /// <exception cref="InvalidOperationException">The counter would become negative.</exception>
    public void Add(int delta)
    {
        if (!TryAdd(delta))
            throw new InvalidOperationException($"spindle: wait group counter would become negative ({Count} + {delta})");
    }

    /// <summary>Add(-1).</summary>
    public void Done() => Add(-1);

    internal bool TryAdd(long delta)
    {
        (Goroutine? Goroutine, Action Continuation)[] waiters;
        lock (_lock)
        {
            long next = _count + delta;
            if (next < 0)
                return false;
            _count = next;
            if (next != 0)
                return true;
            waiters = _asyncWaiters.Count == 0 ? [] : [.. _asyncWaiters];
            _asyncWaiters.Clear();
            if (_blockedThreads > 0)
                Monitor.PulseAll(_lock);
        }
        foreach (var (g, continuation) in waiters)
        {
            if (g is not null) // the goroutine's own runtime, whenever this wait group was made
                g.Context!.Scheduler.PostStep(g, GoroutineSyncContext.InvokeAction, continuation);
            else
                ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
        }
        return true;
    }

    /// <summary>Waits, blocking the calling thread, until the counter is zero. For plain
    /// threads: inside a goroutine use <see cref="WaitAsync"/>, which parks only the
    /// goroutine.</summary>
    public void Wait()
    {
        if (Machine.CurrentMachine is not null)
            throw new InvalidOperationException("spindle: WaitGroup.Wait would block a worker thread; await WaitAsync() in a goroutine");
        lock (_lock)
        {
            _blockedThreads++;
            try
            {
                while (_count != 0)
                    Monitor.Wait(_lock);
            }
            finally
            {
                _blockedThreads--;
            }
        }
    }

    /// <summary>Waits asynchronously until the counter is zero; in a managed goroutine
    /// this parks the goroutine, not its worker.</summary>
    public WaitAwaitable WaitAsync() => new(this);

    internal bool TryRegister(Action continuation)
    {
        lock (_lock)
        {
            if (_count == 0)
                return false;
            Goroutine? g = GoroutineSyncContext.CurrentGoroutine;
            if (g is not null)
                g.ParkReason = WaitReason.External; // threads outside may call Done
            _asyncWaiters.Add((g, continuation));
            return true;
        }
    }

    /// <summary>The awaitable of <see cref="WaitAsync"/>.</summary>
    public readonly struct WaitAwaitable(WaitGroup wg) : ICriticalNotifyCompletion
    {
        /// <summary>Returns this awaitable as its own awaiter.</summary>
        public WaitAwaitable GetAwaiter() => this;
        /// <summary>True when the counter is already zero.</summary>
        public bool IsCompleted => wg.Count == 0;
        /// <summary>Nothing to return.</summary>
        public void GetResult() { }
        /// <inheritdoc/>
        public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);
        /// <inheritdoc/>
        public void UnsafeOnCompleted(Action continuation)
        {
            if (!wg.TryRegister(continuation))
                Runtime.ContinueSoon(continuation); // reached zero meanwhile
        }
    }
}
