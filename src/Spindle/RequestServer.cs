using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

internal sealed unsafe partial class Scheduler
{
    /// <summary>Serves a native goroutine's runtime call on the worker's own stack: the few
    /// things libspindle leaves to the scheduler (everything a goroutine does with channels,
    /// select, timers, mutexes and wait groups, and its spawns and yields in the run loop,
    /// libspindle serves itself). Returns true when the goroutine has its answer and should
    /// be resumed at once; false when it was parked or queued.</summary>
    private bool Serve(Machine m, Goroutine g, sp_request* req)
    {
        if (req is null)
        {
            Fail(new InvalidOperationException($"spindle: goroutine {g.Id} posted a request that cannot be read"));
            return false;
        }
        req->result = SP_OK;
        m.P!.RuntimeCalls++;
        switch (req->op)
        {
            case SP_OP_GO:
                req->result = SpawnNative((delegate* unmanaged<void*, void>)req->args[0], (void*)req->args[1]);
                return true;
            case SP_OP_GOSCHED:
                Requeue(m, g);
                return false;
            case SP_OP_BLOCK_ENTER:
                if (g.InBlockingSection)
                    req->result = SP_ESTATE;
                g.InBlockingSection = true;
                if (SwitchTrace.Active)
                    sp_trace_record_event(SP_TRACE_BLOCKING, g.Id, 0, 1, 0);
                return true;
            case SP_OP_BLOCK_EXIT:
                if (!g.InBlockingSection)
                    req->result = SP_ESTATE;
                g.InBlockingSection = false;
                if (SwitchTrace.Active)
                    sp_trace_record_event(SP_TRACE_BLOCKING, g.Id, 0, 0, 0);
                return true;
            case SP_OP_CALL:
                req->result = Callbacks.Invoke(g.Id, (int)req->args[0], (nint)req->args[1], out req->value);
                if (req->result == SP_ECALLBACK)
                    Interlocked.Increment(ref CallbackFailures);
                return true;
            case SP_OP_PARK:
                // The goroutine queued itself where it waits outside its run loop (a
                // blocking section, a processor taken meanwhile): it is switched out now.
                sp_host_commit_park(g.Native, req);
                return false;
            default:
                req->result = SP_EINVAL;
                return true;
        }
    }

    /// <summary>Takes a goroutine the runtime discards (it stops) out of whatever it waits
    /// in, so that nothing completes it after its stack is gone.</summary>
    private static void Discard(Goroutine g)
    {
        if (g.Kind == GoroutineKind.Native)
            sp_host_discard(g.Native);
        else
            g.ParkedOn?.Abandon();
        g.ParkedOn = null;
    }
}
