using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>The goroutine records of one scheduler, made and reused by its native half
/// (sp_sched: records, free lists, ids, the live count, the global run queue), with
/// the managed descriptor of each record made on first use. The native run loop starts
/// and finishes goroutines without managed code, so most records of a program that
/// only spawns, yields and uses channels never get a descriptor. A record keeps its
/// descriptor for good, whatever goroutine it holds next.</summary>
internal sealed unsafe class GoroutineTable
{
    private const int ChunkBits = 12;
    private const int ChunkSize = 1 << ChunkBits;
    private const int MaxChunks = 16384; // sched.c's limit: 64 Mi records

    private readonly Goroutine?[]?[] _chunks = new Goroutine?[]?[MaxChunks];

    private readonly Scheduler _scheduler;

    public GoroutineTable(Scheduler scheduler, GoroutineStacks stacks, long maxStack)
    {
        _scheduler = scheduler;
        sp_sched* s;
        int err = sp_sched_create(&s, (int)stacks, (nuint)maxStack);
        if (err != SP_OK)
            throw new InvalidOperationException($"spindle: cannot make a scheduler: {SpindleError.Describe(err)}");
        Sched = s;
    }

    /// <summary>The native half, which processors' run queues are attached to.</summary>
    public sp_sched* Sched { get; }

    /// <summary>Goroutines started and not finished (exact while no worker holds a P).</summary>
    public int Live => (int)sp_sched_live(Sched);

    /// <summary>A record for a new goroutine, from p's free list when the caller holds p,
    /// counted live; its descriptor.</summary>
    public Goroutine New(Processor? p)
    {
        sp_g* native = sp_sched_new_g(Sched, p is null ? null : p.RunQ.Native);
        if (native is null)
            throw new OutOfMemoryException("spindle: no memory for a goroutine record");
        return this[native];
    }

    /// <summary>Gives a finished goroutine's record back (to p's free list when the
    /// caller holds p) and takes it out of the live count.</summary>
    public void Free(Processor? p, Goroutine g) =>
        sp_sched_free_g(Sched, p is null ? null : p.RunQ.Native, g.Native);

    /// <summary>The descriptor of a record of this table, made on first use.</summary>
    public Goroutine this[sp_g* native]
    {
        get
        {
            long slot = native->slot;
            Goroutine?[] chunk = _chunks[slot >> ChunkBits] ?? MakeChunk(slot >> ChunkBits);
            // Not ref chunk[i]: that checks the array's type at run time (LdelemaRef).
            ref Goroutine? entry = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chunk), (int)(slot & (ChunkSize - 1)));
            return Volatile.Read(ref entry) ?? MakeDescriptor(ref entry, native);
        }
    }

    private Goroutine?[] MakeChunk(long index)
    {
        Interlocked.CompareExchange(ref _chunks[index], new Goroutine?[ChunkSize], null);
        return _chunks[index]!;
    }

    private Goroutine MakeDescriptor(ref Goroutine? entry, sp_g* native)
    {
        var made = new Goroutine(native, _scheduler);
        return Interlocked.CompareExchange(ref entry, made, null) ?? made;
    }

    /// <summary>Calls visit on every goroutine that has not finished.</summary>
    public void ForEach(Action<Goroutine> visit)
    {
        for (long slot = sp_sched_next_live(Sched, 0); slot >= 0; slot = sp_sched_next_live(Sched, slot + 1))
            visit(this[sp_sched_record(Sched, slot)]);
    }

    ~GoroutineTable() => sp_sched_destroy(Sched);
}
