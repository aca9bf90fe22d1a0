using static Spindle.Interop.SpindleHost;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

// What the managed scheduler tells the switch trace and the Spindle-Runtime EventSource
// about goroutines: one test each when neither listens.
internal sealed unsafe partial class Scheduler
{
    private static long RunningId() => Machine.CurrentMachine?.Current?.Id ?? 0;

    private static void TraceCreated(Machine? m, Goroutine g)
    {
        long parent = m?.Current?.Id ?? 0;
        if (SwitchTrace.Active)
            sp_trace_record_event(SP_TRACE_CREATE, g.Id, parent, 0, 0);
        if (RuntimeEvents.Log.GoroutinesEnabled)
            RuntimeEvents.Log.GoroutineCreated(g.Id, parent, (int)g.Kind);
    }

    private static void TraceExited(Goroutine g)
    {
        if (SwitchTrace.Active)
            sp_trace_record_event(SP_TRACE_EXIT, g.Id, 0, 0, 0);
        if (RuntimeEvents.Log.GoroutinesEnabled)
            RuntimeEvents.Log.GoroutineExited(g.Id);
    }

    /// <summary>A managed goroutine's step ended and it parked (on the object whose handle
    /// is parkedOn: 0 for several or none). Its id and object are read before the
    /// goroutine is unlocked: once it is, it may be woken, end and be reused.</summary>
    private static void TraceBlocked(long id, WaitReason reason, ulong parkedOn)
    {
        if (SwitchTrace.Active)
        {
            sp_trace_record_event(SP_TRACE_BLOCK, id, (long)parkedOn, 0, (int)reason);
            sp_trace_mark(SP_TRACE_MARK_STEP_END, id, SP_TRACE_PARKED);
        }
        if (RuntimeEvents.Log.GoroutinesEnabled)
            RuntimeEvents.Log.GoroutineBlocked(id, (int)reason, (long)parkedOn);
    }

    private static void TraceStepEnded(Goroutine g, int why)
    {
        if (SwitchTrace.Active)
            sp_trace_mark(SP_TRACE_MARK_STEP_END, g.Id, why);
    }

    private static void TraceUnblocked(Goroutine g)
    {
        if (SwitchTrace.Active)
            sp_trace_record_event(SP_TRACE_UNBLOCK, g.Id, RunningId(), 0, 0);
        if (RuntimeEvents.Log.GoroutinesEnabled)
            RuntimeEvents.Log.GoroutineUnblocked(g.Id, RunningId());
    }

    // ---------------------------------------------------------------- the meter's reads

    /// <summary>Goroutines waiting in run queues (a snapshot, read without the owners).</summary>
    internal long RunnableGoroutines()
    {
        long n = sp_sched_global_count(_goroutines.Sched);
        foreach (Processor p in _allPs)
            n += sp_runq_length(p.RunQ.Native);
        return n;
    }

    /// <summary>Workers inside a goroutine's blocking call: holding their processor in one,
    /// or having lost it to the monitor meanwhile.</summary>
    internal int WorkersInBlockingCalls()
    {
        int n = Volatile.Read(ref RunningWithoutP);
        foreach (Processor p in _allPs)
            if (Processor.StateOf(Volatile.Read(ref p.Status)) == Processor.InBlocking)
                n++;
        return n;
    }

    /// <summary>Goroutines run: the native run loops' own switches and the managed
    /// scheduler's runs, over every processor.</summary>
    internal long Switches()
    {
        long n = NativeSwitches();
        foreach (Processor p in _allPs)
            n += Volatile.Read(ref p.Runs);
        return n;
    }
}
