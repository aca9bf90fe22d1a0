using static Spindle.Interop.SpindleNative;

namespace Spindle;

/// <summary>
/// Performs a parker's cases as Go's selectgo does: take every channel's lock in id
/// order, look at the cases in a uniformly random order and perform the first that
/// can proceed; otherwise (unless the caller would rather not wait) queue every case
/// and park. A single send or receive is a select of one case.
/// </summary>
internal static unsafe class SelectEngine
{
    /// <summary>Tries the cases; true when one was performed (p.Chosen, p.Result,
    /// p.RecvOk tell which and how). Otherwise, with block, every case is queued and the
    /// party is parked (BeforePark), and false is returned; without block, false with
    /// nothing queued (a select's default case).</summary>
    public static bool Run(Parker p, bool block, WaitReason reason)
    {
        if (p.Count == 1 && p.Case(0).Channel is ChannelCore single)
            return RunOne(p, single, block, reason);
        Span<int> locks = p.LockOrder();
        LockAll(p, locks);
        Woken woken = default;
        bool outside = false;
        foreach (int i in p.PollOrder())
        {
            Waiter w = p.Case(i);
            ChannelCore? ch = w.Channel;
            if (ch is null)
                continue; // the nil channel is never ready
            outside |= ch.VisibleOutside;
            bool ok = false;
            ChanStatus status = w.IsSend ? ch.TrySendLocked(w.Elem, ref woken) : ch.TryRecvLocked(w.Elem, out ok, ref woken);
            if (status == ChanStatus.WouldBlock)
                continue;
            UnlockAll(p, locks);
            Performed(p, i, status, ok);
            woken.Wake();
            return true;
        }
        if (!block)
        {
            UnlockAll(p, locks);
            return false;
        }
        for (int i = 0; i < p.Count; i++)
        {
            Waiter w = p.Case(i);
            w.Channel?.EnqueueLocked(w);
        }
        p.BeforePark(reason, outside);
        UnlockAll(p, locks);
        return false;
    }

    /// <summary>A single send or receive: one lock, no ordering, no shuffle.</summary>
    private static bool RunOne(Parker p, ChannelCore ch, bool block, WaitReason reason)
    {
        Waiter w = p.Case(0);
        Woken woken = default;
        bool ok = false;
        ch.Lock.Enter();
        ChanStatus status = w.IsSend ? ch.TrySendLocked(w.Elem, ref woken) : ch.TryRecvLocked(w.Elem, out ok, ref woken);
        if (status == ChanStatus.WouldBlock)
        {
            if (block)
            {
                ch.EnqueueLocked(w);
                p.BeforePark(reason, ch.VisibleOutside);
            }
            ch.Lock.Exit();
            return false;
        }
        ch.Lock.Exit();
        Performed(p, 0, status, ok);
        woken.Wake();
        return true;
    }

    /// <summary>Records case i as performed. The parker was never queued, so nobody else
    /// can claim it and no lock is needed.</summary>
    private static void Performed(Parker p, int i, ChanStatus status, bool ok)
    {
        p.TryClaim(i);
        p.RecvOk = ok;
        p.Result = status switch
        {
            ChanStatus.Closed => SP_ECLOSED,
            ChanStatus.Released => SP_ESTALE,
            _ => SP_OK,
        };
    }

    private static void LockAll(Parker p, Span<int> order) => EachDistinct(p, order, enter: true);

    private static void UnlockAll(Parker p, Span<int> order) => EachDistinct(p, order, enter: false);

    /// <summary>Takes or releases each channel's lock once, however many cases name it.</summary>
    private static void EachDistinct(Parker p, Span<int> order, bool enter)
    {
        ChannelCore? previous = null;
        foreach (int i in order)
        {
            ChannelCore ch = p.Case(i).Channel!;
            if (ch == previous)
                continue;
            if (enter) ch.Lock.Enter(); else ch.Lock.Exit();
            previous = ch;
        }
    }

    /// <summary>The reason a goroutine parked on these cases gives in a dump.</summary>
    public static WaitReason ReasonFor(Parker p)
    {
        if (p.Count == 0)
            return WaitReason.SelectNoCases;
        if (p.Count > 1)
            return WaitReason.Select;
        Waiter w = p.Case(0);
        if (w.Channel is null)
            return w.IsSend ? WaitReason.ChanSendNilChan : WaitReason.ChanReceiveNilChan;
        return w.IsSend ? WaitReason.ChanSend : WaitReason.ChanReceive;
    }
}
