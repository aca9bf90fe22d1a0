namespace Spindle;

/// <summary>A P's timers, earliest deadline first: sleeping goroutines and the timers of
/// timer and ticker channels (<see cref="ChannelTimer"/>). Locked, because an idle worker
/// also runs the expired timers of other Ps, and a thread outside may add one.</summary>
internal sealed class TimerQueue
{
    private readonly PriorityQueue<object, (long When, long Seq)> _heap = new();
    private readonly Lock _lock = new();
    private long _seq; // equal deadlines wake in the order they slept
    private long _next = long.MaxValue;

    /// <summary>The earliest deadline (Stopwatch ticks), or long.MaxValue; read without
    /// the lock on every scheduling round.</summary>
    public long NextDeadline => Volatile.Read(ref _next);

    private void UpdateNext() =>
        Volatile.Write(ref _next, _heap.TryPeek(out _, out var p) ? p.When : long.MaxValue);

    public int Count { get { lock (_lock) return _heap.Count; } }

    public void Add(object timer, long when)
    {
        lock (_lock)
        {
            _heap.Enqueue(timer, (when, _seq++));
            UpdateNext();
        }
    }

    /// <summary>The earliest deadline, or long.MaxValue.</summary>
    public long Next()
    {
        lock (_lock)
            return _heap.TryPeek(out _, out var p) ? p.When : long.MaxValue;
    }

    /// <summary>Moves the timers whose deadline is at or before now into expired, in order.</summary>
    public void TakeExpired(long now, List<object> expired)
    {
        lock (_lock)
        {
            while (_heap.TryPeek(out object? timer, out var p) && p.When <= now)
            {
                _heap.Dequeue();
                expired.Add(timer);
            }
            UpdateNext();
        }
    }

    /// <summary>Moves every timer into another queue (when a P retires).</summary>
    public void MoveTo(TimerQueue other)
    {
        lock (_lock)
        {
            while (_heap.TryDequeue(out object? timer, out var p))
                other.Add(timer, p.When);
            UpdateNext();
        }
    }
}
