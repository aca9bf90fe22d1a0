namespace Spindle;

/// <summary>A P's local run queue, as Go's runq: a 256-slot ring that only its owner
/// appends to, while other workers may steal half from the head; plus the runnext slot
/// for a goroutine readied by the running one, which then runs next on the same core.</summary>
internal sealed class RunQueue
{
    public const int Capacity = 256;
    private readonly Goroutine?[] _ring = new Goroutine?[Capacity];
    private uint _head; // consumers: owner and thieves, by CAS
    private uint _tail; // producer: owner only
    private Goroutine? _next;

    public bool IsEmpty => Volatile.Read(ref _head) == Volatile.Read(ref _tail) && Volatile.Read(ref _next) is null;

    /// <summary>Adds g (owner only). With next, g takes the runnext slot and whatever
    /// was there moves to the tail. Returns null when queued, or the goroutine that did
    /// not fit (g, or the one displaced from runnext) when the ring is full: the caller
    /// moves it, with half of the ring, to the global queue (Go's runqputslow).
    /// The new goroutine never leaves runnext again here: putting a displaced one back
    /// would race with a thief taking the new one, which would then run twice.</summary>
    public Goroutine? Put(Goroutine g, bool next)
    {
        if (next)
        {
            Goroutine? old = Interlocked.Exchange(ref _next, g);
            if (old is null)
                return null;
            g = old;
        }
        uint h = Volatile.Read(ref _head);
        uint t = _tail;
        if (t - h >= Capacity)
            return g;
        _ring[t % Capacity] = g;
        Volatile.Write(ref _tail, t + 1);
        return null;
    }

    /// <summary>Takes half of the ring into a chain for the global queue (owner only).</summary>
    public Goroutine? TakeHalfForGlobal(out int count)
    {
        uint h = Volatile.Read(ref _head);
        uint t = _tail;
        uint n = (t - h) / 2;
        Goroutine? first = null, last = null;
        count = 0;
        if (n == 0 || Interlocked.CompareExchange(ref _head, h + n, h) != h)
            return null;
        for (uint i = 0; i < n; i++)
        {
            Goroutine g = _ring[(h + i) % Capacity]!;
            g.Link = null;
            if (last is null) first = g; else last.Link = g;
            last = g;
            count++;
        }
        return first;
    }

    /// <summary>Takes the next goroutine (owner only).</summary>
    public Goroutine? Get()
    {
        Goroutine? next = Volatile.Read(ref _next);
        if (next is not null && Interlocked.CompareExchange(ref _next, null, next) == next)
            return next;
        while (true)
        {
            uint h = Volatile.Read(ref _head);
            uint t = Volatile.Read(ref _tail);
            if (h == t)
                return null;
            Goroutine? g = _ring[h % Capacity];
            if (Interlocked.CompareExchange(ref _head, h + 1, h) == h)
                return g;
        }
    }

    /// <summary>Moves half of victim's ring into this one (this queue's owner only);
    /// returns one of the stolen goroutines to run now.</summary>
    public Goroutine? StealHalf(RunQueue victim)
    {
        while (true)
        {
            uint h = Volatile.Read(ref victim._head);
            uint t = Volatile.Read(ref victim._tail);
            uint n = t - h;
            n -= n / 2;
            if (n > Capacity / 2)
                continue; // read a torn head/tail pair: retry
            if (n == 0)
            {
                // Only a runnext goroutine: take it rather than leave a P idle while
                // the victim's worker is busy with something else (Go does the same).
                Goroutine? next = Volatile.Read(ref victim._next);
                return next is not null && Interlocked.CompareExchange(ref victim._next, null, next) == next
                    ? next : null;
            }
            uint myTail = _tail;
            for (uint i = 0; i < n; i++)
                _ring[(myTail + i) % Capacity] = victim._ring[(h + i) % Capacity];
            if (Interlocked.CompareExchange(ref victim._head, h + n, h) != h)
                continue;
            // Keep the last stolen one to run; publish the rest.
            Goroutine? run = _ring[(myTail + n - 1) % Capacity];
            Volatile.Write(ref _tail, myTail + n - 1);
            return run;
        }
    }

    /// <summary>Empties the queue into a chain (owner only, when the P retires).</summary>
    public Goroutine? Drain()
    {
        Goroutine? first = null, last = null;
        for (Goroutine? g = Get(); g is not null; g = Get())
        {
            g.Link = null;
            if (last is null) first = g; else last.Link = g;
            last = g;
        }
        return first;
    }
}
