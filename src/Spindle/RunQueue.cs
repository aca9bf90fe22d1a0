using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>A P's local run queue, as Go's runq: a 256-slot ring that only its owner
/// appends to, while other workers may steal half from the head; plus the runnext slot
/// for a goroutine readied by the running one, which then runs next on the same core.
/// The queue itself is native (run_queue.c), so that the native run loop can switch
/// between goroutines that yield without coming back here; it holds each goroutine's
/// native record, which <see cref="GoroutineTable"/> maps back to the G.</summary>
internal sealed unsafe class RunQueue
{
    public const int Capacity = (int)SP_RUNQ_CAPACITY;
    private readonly GoroutineTable _table;

    public RunQueue(GoroutineTable table)
    {
        _table = table;
        sp_runq* q;
        if (sp_runq_create(&q) != SP_OK)
            throw new OutOfMemoryException("spindle: no memory for a run queue");
        sp_runq_attach(q, table.Sched); // its free list and live count serve the table
        Native = q;
    }

    /// <summary>The native queue, for the run loop and the processor's status word.</summary>
    public sp_runq* Native { get; }

    public bool IsEmpty => sp_runq_empty(Native);

    private Goroutine? Of(sp_g* g) => g is null ? null : _table[g];

    /// <summary>Adds g (owner only). With next, g takes the runnext slot and whatever
    /// was there moves to the tail. Returns null when queued, or the goroutine that did
    /// not fit (g, or the one displaced from runnext) when the ring is full.
    /// The new goroutine never leaves runnext again here: putting a displaced one back
    /// would race with a thief taking the new one, which would then run twice.</summary>
    public Goroutine? Put(Goroutine g, bool next) => Of(sp_runq_put(Native, g.Native, next));

    /// <summary>Adds g as <see cref="Put"/> does (owner only); when the ring is full, half
    /// of it and the goroutine that did not fit go to the global queue (Go's
    /// runqputslow).</summary>
    public void PutOrSpill(Goroutine g, bool next) => sp_runq_put_spill(Native, _table.Sched, g.Native, next);

    /// <summary>Takes the next goroutine (owner only).</summary>
    public Goroutine? Get() => Of(sp_runq_get(Native));

    /// <summary>Moves half of victim's ring into this one (this queue's owner only);
    /// returns one of the stolen goroutines to run now. With nothing in the ring, takes
    /// victim's runnext goroutine when takeNext is true.</summary>
    public Goroutine? StealHalf(RunQueue victim, bool takeNext = true) =>
        Of(sp_runq_steal_from(Native, victim.Native, takeNext));


    ~RunQueue() => sp_runq_destroy(Native);
}
