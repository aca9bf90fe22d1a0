using Spindle.Interop;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

internal sealed unsafe partial class Scheduler
{
    /// <summary>Serves a native goroutine's runtime call on the worker's own stack.
    /// Returns true when the goroutine has its answer and should be resumed at once;
    /// false when it was parked or queued.</summary>
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
            case SP_OP_SLEEP:
                long ns = (long)req->args[0];
                if (ns <= 0)
                    Requeue(m, g);
                else
                    SleepNative(m, g, ns);
                return false;
            case SP_OP_BLOCK_ENTER:
                if (g.InBlockingSection)
                    req->result = SP_ESTATE;
                g.InBlockingSection = true;
                return true;
            case SP_OP_BLOCK_EXIT:
                if (!g.InBlockingSection)
                    req->result = SP_ESTATE;
                g.InBlockingSection = false;
                return true;
            case SP_OP_CALL:
                req->result = Callbacks.Invoke(g.Id, (int)req->args[0], (nint)req->args[1], out req->value);
                if (req->result == SP_ECALLBACK)
                    Interlocked.Increment(ref CallbackFailures);
                return true;
            case SP_OP_WG_MAKE:
                req->value = (long)WaitGroups.Add(new WaitGroup(this, visibleOutside: false));
                return true;
            case SP_OP_WG_ADD:
            {
                WaitGroup? wg = WaitGroups.Get(req->args[0]);
                req->result = wg is null ? SP_ESTALE : wg.TryAdd((long)req->args[1]) ? SP_OK : SP_EINVAL;
                return true;
            }
            case SP_OP_WG_WAIT:
            {
                WaitGroup? wg = WaitGroups.Get(req->args[0]);
                if (wg is null)
                {
                    req->result = SP_ESTALE;
                    return true;
                }
                return !wg.ParkNative(g);
            }
            case SP_OP_WG_RELEASE:
                req->result = WaitGroups.Release(req->args[0], wg => wg.HasWaiters ? SP_ESTATE : SP_OK);
                return true;
            default:
                return ServeChannel(g, req);
        }
    }
}
