using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>A P: the right to run goroutines. GOMAXPROCS of them exist; a worker must
/// hold one to run goroutines. Its Status word packs a generation with the state, so a
/// worker that lost its P to the monitor can tell, even if the P has since been taken
/// up again by another worker.</summary>
internal sealed unsafe class Processor
{
    // States (low byte of Status); the native run loop knows Owned and InGoroutine.
    public const long Idle = SP_P_IDLE, Owned = SP_P_OWNED, InGoroutine = SP_P_IN_GOROUTINE,
        InBlocking = SP_P_IN_BLOCKING, Retaken = SP_P_RETAKEN, Retired = SP_P_RETIRED;

    /// <summary>A name for events; not its place in the scheduler's array, which
    /// GOMAXPROCS changes may reorder.</summary>
    public readonly int Id;
    public readonly RunQueue RunQ;

    private readonly long* _status;
    /// <summary>The earliest deadline of the P's native timer heap (sp_clock_now ns), read
    /// on every scheduling round without a call.</summary>
    public readonly long* TimerDeadline;

    /// <summary>(generation &lt;&lt; 8) | state; kept with the native run queue, whose run
    /// loop leaves it at InGoroutine while it switches between goroutines and sets it to
    /// Owned when it returns.</summary>
    public ref long Status => ref *_status;
    /// <summary>When the current resume started (coarse clock ms), for the
    /// monitor, which looks once a millisecond.</summary>
    public long RunStart;
    // The monitor's last look at the native run loop's switch count, and when it
    // last saw the count move (monitor only).
    private ulong _seenSwitches;
    private long _seenSwitchAt;

    public volatile bool Retiring;
    /// <summary>Scheduling rounds on this P (owner only).</summary>
    public uint SchedTick;
    /// <summary>Runtime calls served on this P (owner only; summed for the stats).</summary>
    public long RuntimeCalls;
    /// <summary>Goroutines the managed scheduler ran on this P (owner only; summed for the
    /// meter's switch count, with the native run loop's own switches).</summary>
    public long Runs;

    public Processor(int id, GoroutineTable goroutines)
    {
        Id = id;
        RunQ = new RunQueue(goroutines);
        _status = sp_runq_status(RunQ.Native);
        TimerDeadline = (long*)sp_host_timer_deadline(RunQ.Native);
    }

    public static long StateOf(long status) => status & 0xff;

    /// <summary>For the monitor: when (ms) it first saw the native run loop's latest
    /// switch on this P. The loop switches goroutines inside one resume, without
    /// touching RunStart, so the goroutine running now started no earlier than that.</summary>
    public long SwitchedSince(long now)
    {
        ulong switches = sp_runq_switches(RunQ.Native);
        if (switches != _seenSwitches)
        {
            _seenSwitches = switches;
            _seenSwitchAt = now;
        }
        return _seenSwitchAt;
    }

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
