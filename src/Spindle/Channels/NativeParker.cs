using Spindle.Interop;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

/// <summary>A native goroutine parked in a channel, select or mutex runtime call. Its
/// answer goes into the goroutine's request record; then it is made runnable, next in
/// line on the waker's processor (Go's runnext), which keeps a ping-pong on one core.
/// A goroutine parks in one operation at a time, so each keeps its own parker (no pool,
/// no thread-local lookups on the switch path).</summary>
internal sealed unsafe class NativeParker : Parker
{
    public Scheduler? Sched;
    public sp_request* Request;
    public bool IsSelect;

    public static NativeParker Rent(Scheduler sched, Goroutine g, sp_request* req, int cases, bool isSelect)
    {
        NativeParker p = g.OwnParker ??= new NativeParker();
        p.Reset(cases);
        p.Sched = sched;
        p.G = g;
        p.Request = req;
        p.IsSelect = isSelect;
        return p;
    }

    /// <summary>Writes the outcome into the request (and a select's ok flag).</summary>
    public void Deliver()
    {
        Request->result = Result;
        if (!IsSelect)
        {
            Request->value = RecvOk ? 1 : 0;
            return;
        }
        Request->value = Chosen;
        if (Result == SP_OK && Chosen >= 0 && Chosen < Count)
        {
            Waiter w = Case(Chosen);
            if (!w.IsSend && w.OkOut != null)
                *w.OkOut = RecvOk;
        }
    }

    /// <summary>Done with this operation: nothing refers to the parker any more.</summary>
    public void Free()
    {
        if (Count > 64)
            G!.OwnParker = null; // a select of many cases: do not keep its arrays forever
        Sched = null;
        G = null;
        Request = null;
    }

    public override void BeforePark(WaitReason reason, bool outside)
    {
        G!.SetState(GoroutineState.Waiting, reason);
        G.ParkedOn = this;
        if (outside)
        {
            CountsOutside = true;
            Interlocked.Increment(ref Sched!.ExternalWaits);
        }
    }

    protected override void OnWake()
    {
        Deliver();
        Goroutine g = G!;
        Scheduler sched = Sched!;
        bool outside = CountsOutside;
        g.ParkedOn = null;
        Free();
        g.SetState(GoroutineState.Runnable);
        sched.Ready(g, next: true);
        if (outside) // after Ready: never a moment where it looks neither runnable nor waited on
            Interlocked.Decrement(ref sched.ExternalWaits);
    }
}
