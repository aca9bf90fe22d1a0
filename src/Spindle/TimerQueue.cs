namespace Spindle;

/// <summary>A P's sleeping goroutines, earliest deadline first. Locked, because an idle
/// worker also runs the expired timers of other Ps.</summary>
internal sealed class TimerQueue
{
    private readonly PriorityQueue<Goroutine, (long When, long Seq)> _heap = new();
    private readonly Lock _lock = new();
    private long _seq; // equal deadlines wake in the order they slept
    private long _next = long.MaxValue;

    /// <summary>The earliest deadline (Stopwatch ticks), or long.MaxValue; read without
    /// the lock on every scheduling round.</summary>
    public long NextDeadline => Volatile.Read(ref _next);

    private void UpdateNext() =>
        Volatile.Write(ref _next, _heap.TryPeek(out _, out var p) ? p.When : long.MaxValue);

    public int Count { get { lock (_lock) return _heap.Count; } }

    public void Add(Goroutine g, long when)
    {
        lock (_lock)
        {
            _heap.Enqueue(g, (when, _seq++));
            UpdateNext();
        }
    }

    /// <summary>The earliest deadline, or long.MaxValue.</summary>
    public long Next()
    {
        lock (_lock)
            return _heap.TryPeek(out _, out var p) ? p.When : long.MaxValue;
    }

    /// <summary>Removes the goroutines whose deadline is at or before now, in order.</summary>
    public Goroutine? TakeExpired(long now)
    {
        Goroutine? first = null, last = null;
        lock (_lock)
        {
            while (_heap.TryPeek(out Goroutine? g, out var p) && p.When <= now)
            {
                _heap.Dequeue();
                g.Link = null;
                if (last is null) first = g; else last.Link = g;
                last = g;
            }
            UpdateNext();
        }
        return first;
    }

    /// <summary>Moves every timer into another queue (when a P retires).</summary>
    public void MoveTo(TimerQueue other)
    {
        lock (_lock)
        {
            while (_heap.TryDequeue(out Goroutine? g, out var p))
                other.Add(g, p.When);
            UpdateNext();
        }
    }
}
