namespace Spindle;

/// <summary>A P: the right to run goroutines. GOMAXPROCS of them exist; a worker must
/// hold one to run goroutines. Its Status word packs a generation with the state, so a
/// worker that lost its P to the monitor can tell, even if the P has since been taken
/// up again by another worker.</summary>
internal sealed class Processor
{
    // States (low byte of Status).
    public const long Idle = 0, Owned = 1, InGoroutine = 2, InBlocking = 3, Retaken = 4, Retired = 5;

    /// <summary>A name for events; not its place in the scheduler's array, which
    /// GOMAXPROCS changes may reorder.</summary>
    public readonly int Id;
    public readonly RunQueue RunQ = new();
    public readonly TimerQueue Timers = new();
    /// <summary>Goroutine descriptors to reuse (owner only).</summary>
    public Goroutine? FreeGs;
    public int FreeCount;

    /// <summary>(generation &lt;&lt; 8) | state.</summary>
    public long Status;
    /// <summary>When the current resume started (Environment.TickCount64 ms), for the
    /// monitor, which looks once a millisecond.</summary>
    public long RunStart;
    public volatile bool Retiring;
    /// <summary>Scheduling rounds on this P (owner only).</summary>
    public uint SchedTick;

    public Processor(int id) => Id = id;

    public static long StateOf(long status) => status & 0xff;

    /// <summary>Marks the P owned by a new holder: a new generation.</summary>
    public long Acquire()
    {
        long s = Volatile.Read(ref Status);
        long next = ((s >> 8) + 1) << 8 | Owned;
        Volatile.Write(ref Status, next);
        return next;
    }

    /// <summary>Enters a resume in the given state; returns the word to check afterwards.</summary>
    public long EnterResume(long state, long now)
    {
        RunStart = now;
        long s = Volatile.Read(ref Status);
        long entered = (s & ~0xffL) | state;
        Volatile.Write(ref Status, entered);
        return entered;
    }

    /// <summary>Leaves a resume: false when the monitor retook the P meanwhile.</summary>
    public bool LeaveResume(long entered) =>
        Interlocked.CompareExchange(ref Status, (entered & ~0xffL) | Owned, entered) == entered;

    /// <summary>The monitor takes the P from a worker stuck in a resume.</summary>
    public bool TryRetake(long observed) =>
        Interlocked.CompareExchange(ref Status, (observed & ~0xffL) | Retaken, observed) == observed;

    public void SetIdle()
    {
        long s = Volatile.Read(ref Status);
        Volatile.Write(ref Status, (s & ~0xffL) | (Retiring ? Retired : Idle));
    }
}
