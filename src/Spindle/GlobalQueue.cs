using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>The global run queue, kept by the scheduler's native half (sched.c) under
/// its own lock: the native run loop spills half of a full local queue there itself.</summary>
internal sealed unsafe class GlobalQueue(GoroutineTable table)
{
    public long Count => sp_sched_global_count(table.Sched);

    public void Push(Goroutine g) => sp_sched_global_push(table.Sched, g.Native);

    public Goroutine? Pop()
    {
        sp_g* g = sp_sched_global_pop(table.Sched);
        return g is null ? null : table[g];
    }

    /// <summary>Go's globrunqget: a fair share for p among procs processors; the first to
    /// run now, the rest into p's local queue.</summary>
    public Goroutine? TakeBatch(Processor p, int procs)
    {
        sp_g* g = sp_sched_global_take(table.Sched, p.RunQ.Native, procs);
        return g is null ? null : table[g];
    }
}
