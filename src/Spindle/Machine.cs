namespace Spindle;

/// <summary>An M: a worker OS thread with a normal stack, where all managed code of the
/// runtime (scheduling, serving runtime calls, callbacks, managed goroutines) runs.</summary>
internal sealed class Machine
{
    [ThreadStatic] private static Machine? t_current;

    public readonly int Id;
    public readonly Thread Thread;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Scheduler _sched;

    public Processor? P;
    /// <summary>A P handed to this M by whoever woke it.</summary>
    public Processor? NextP;
    public bool Spinning;
    public Goroutine? Current;

    // One spare party per kind (PartyPool): an operation that completes or resumes gives
    // its party back here, and the next one on this worker takes it, with one atomic
    // exchange each. Exchanged, not owned: a party may be given back on any thread.
    private const int MaxSpares = 32;
    private static int s_spareSlots;
    private readonly SpareSlot[] _spares = new SpareSlot[MaxSpares];
    private volatile bool _exited;

    private struct SpareSlot
    {
        public NativeParty? Party;
    }

    /// <summary>A slot for one kind of party, or -1 once every slot is taken (that kind
    /// then goes without spares).</summary>
    internal static int NewSpareSlot()
    {
        int slot = Interlocked.Increment(ref s_spareSlots) - 1;
        return slot < MaxSpares ? slot : -1;
    }

    internal NativeParty? TakeSpare(int slot) =>
        slot < 0 ? null : Interlocked.Exchange(ref _spares[slot].Party, null);

    internal bool GiveSpare(int slot, NativeParty party)
    {
        if (slot < 0 || _exited || Interlocked.CompareExchange(ref _spares[slot].Party, party, null) is not null)
            return false;
        // The worker may have emptied its spares meanwhile: take it back unless its exit
        // took it (each side fences between its write and its read, so one sees the other).
        return !_exited || Interlocked.CompareExchange(ref _spares[slot].Party, null, party) != party;
    }

    /// <summary>The M running on the calling thread, or null.</summary>
    public static Machine? CurrentMachine => t_current;

    public Machine(Scheduler sched, int id)
    {
        _sched = sched;
        Id = id;
        Thread = new Thread(Main, 1024 * 1024) { IsBackground = true, Name = $"spindle M{id}" };
    }

    public void Start() => Thread.Start();

    /// <summary>Parks until woken or the timeout (ms, -1 for none) passes.</summary>
    public bool Park(int timeoutMs) => _wake.Wait(timeoutMs);

    public void Unpark() => _wake.Release();

    private void Main()
    {
        t_current = this;
        try
        {
            _sched.WorkerLoop(this);
        }
        catch (Exception e)
        {
            _sched.Fail(new InvalidOperationException($"spindle: worker M{Id} failed", e));
        }
        finally
        {
            t_current = null;
            _exited = true;
            // A party given back from now on goes to a pool (GiveSpare).
            for (int i = 0; i < MaxSpares; i++)
                Interlocked.Exchange(ref _spares[i].Party, null)?.Destroy();
        }
    }
}
