using Spindle.Interop;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

internal sealed unsafe partial class Scheduler
{
    // The wait groups this runtime's goroutines made and have not released: released
    // when it stops, as a Go program's exit frees everything.
    private readonly HashSet<NativeWaitGroup> _waitGroups = [];

    internal void RememberWaitGroup(NativeWaitGroup wg)
    {
        lock (_waitGroups)
            _waitGroups.Add(wg);
    }

    internal void ForgetWaitGroup(NativeWaitGroup wg)
    {
        lock (_waitGroups)
            _waitGroups.Remove(wg);
    }

    private void ReleaseWaitGroups()
    {
        NativeWaitGroup[] left;
        lock (_waitGroups)
            left = [.. _waitGroups];
        foreach (NativeWaitGroup wg in left)
            wg.ReleaseAtStop();
    }

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
                req->value = (long)NativeWaitGroup.Make(this, out req->result);
                return true;
            case SP_OP_WG_ADD:
            {
                NativeWaitGroup? wg = Registry.WaitGroups.Get(req->args[0]);
                req->result = wg is null ? SP_ESTALE : wg.Add((long)req->args[1]);
                return true;
            }
            case SP_OP_WG_WAIT:
            {
                NativeWaitGroup? wg = Registry.WaitGroups.Get(req->args[0]);
                if (wg is null)
                {
                    req->result = SP_ESTALE;
                    return true;
                }
                return !wg.Park(g);
            }
            case SP_OP_WG_RELEASE:
                req->result = NativeWaitGroup.Release(req->args[0]);
                return true;
            default:
                return ServeChannel(g, req);
        }
    }
}
