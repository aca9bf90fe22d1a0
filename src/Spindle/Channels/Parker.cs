namespace Spindle;

/// <summary>
/// One blocked operation: a channel send or receive, a select over many cases, or a mutex
/// lock. Its cases wait in their channels' queues; the first counterpart to claim it
/// (<see cref="TryClaim"/>, under that channel's lock) performs the chosen case and, once
/// it holds no channel lock, calls <see cref="Wake"/>, which takes the other cases out of
/// their queues and then resumes the waiting party the way its kind does: a native
/// goroutine is made runnable, an awaiting one gets its continuation, a thread is
/// signalled. Parkers are pooled: nothing is allocated per operation in steady state.
/// </summary>
internal abstract unsafe class Parker
{
    private int _claimed;
    // Case 0 lives in its own field: a plain send or receive (one case) needs no array.
    private readonly Waiter _first;
    private Waiter[]? _cases; // all the cases, _first at 0, once a select had two or more

    protected Parker() => _first = new Waiter(this, 0);

    /// <summary>The case performed (-1 while none is).</summary>
    public int Chosen;
    /// <summary>SP_OK, or the error of the case performed (SP_ECLOSED, SP_ESTALE).</summary>
    public int Result;
    /// <summary>For a receive: false when it got the zero value of a closed channel.</summary>
    public bool RecvOk;
    public int Count;
    /// <summary>The goroutine that waits (null for a thread or async code outside one).</summary>
    public Goroutine? G;
    /// <summary>Whether the wait was counted in the scheduler's outside waits.</summary>
    public bool CountsOutside;
    /// <summary>The mutex this parker queues on, if a lock.</summary>
    public MutexCore? Mutex;
    /// <summary>Links: parkers in a mutex queue, or woken by one close.</summary>
    public Parker? NextParker;

    // Only selects of two or more cases use these: made on first use, so that a
    // goroutine parked in a plain send or receive holds no arrays for them.
    private int[] _lockOrder = [];
    private int[] _pollOrder = [];

    public Waiter Case(int i) => i == 0 ? _first : _cases![i];

    /// <summary>Prepares for an operation of n cases.</summary>
    public void Reset(int n)
    {
        if (n > 1 && (_cases?.Length ?? 0) < n)
        {
            int have = _cases?.Length ?? 1;
            int size = Math.Max(n, have * 2);
            var cases = new Waiter[size];
            cases[0] = _first;
            if (_cases is not null)
                Array.Copy(_cases, cases, _cases.Length);
            for (int i = have; i < size; i++)
                cases[i] = new Waiter(this, i);
            _cases = cases;
        }
        _claimed = 0;
        Chosen = -1;
        Result = Interop.SpindleNative.SP_OK;
        RecvOk = false;
        Count = n;
        G = null;
        CountsOutside = false;
        Mutex = null;
        NextParker = null;
    }

    /// <summary>Claims the parker for case index: true for exactly one caller.</summary>
    public bool TryClaim(int index)
    {
        if (Interlocked.CompareExchange(ref _claimed, 1, 0) != 0)
            return false;
        Chosen = index;
        return true;
    }

    /// <summary>Resumes the waiting party; the caller holds no channel lock.</summary>
    public void Wake()
    {
        if (Count > 1)
            Unqueue(Chosen);
        OnWake();
    }

    /// <summary>Takes every case but the one at keep out of its queue. A counterpart that dequeued
    /// one and failed to claim it did so under the channel's lock, so once this has taken
    /// each lock in turn, nobody else refers to this parker.</summary>
    public void Unqueue(int keep)
    {
        for (int i = 0; i < Count; i++)
        {
            Waiter w = Case(i);
            ChannelCore? ch = w.Channel;
            if (i == keep || ch is null)
                continue;
            ch.Lock.Enter();
            if (w.Queued)
                ch.RemoveWaiter(w);
            ch.Lock.Exit();
        }
    }

    /// <summary>Called under every channel lock of the operation just before they are
    /// released with the parker queued: the waiting party's state (goroutine Waiting).</summary>
    public abstract void BeforePark(WaitReason reason, bool outside);

    protected abstract void OnWake();

    /// <summary>The cases that name a channel, sorted by channel id: the order in which
    /// to take their locks (a channel named twice appears twice, next to itself).</summary>
    public Span<int> LockOrder()
    {
        if (_lockOrder.Length < Count)
            _lockOrder = new int[Count];
        int n = 0;
        for (int i = 0; i < Count; i++)
        {
            ChannelCore? ch = Case(i).Channel;
            if (ch is null)
                continue;
            int j = n++;
            while (j > 0 && Case(_lockOrder[j - 1]).Channel!.Id > ch.Id)
            {
                _lockOrder[j] = _lockOrder[j - 1];
                j--;
            }
            _lockOrder[j] = i;
        }
        return _lockOrder.AsSpan(0, n);
    }

    /// <summary>A uniformly random order of the cases (Fisher-Yates, inside out).</summary>
    public Span<int> PollOrder()
    {
        if (_pollOrder.Length < Count)
            _pollOrder = new int[Count];
        Span<int> order = _pollOrder.AsSpan(0, Count);
        for (int i = 0; i < order.Length; i++)
        {
            int j = Random.Shared.Next(i + 1);
            order[i] = order[j];
            order[j] = i;
        }
        return order;
    }
}
