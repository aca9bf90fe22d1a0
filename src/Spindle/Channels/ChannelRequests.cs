using Spindle.Interop;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

internal sealed unsafe partial class Scheduler
{
    /// <summary>Serves the channel, select, timer and mutex runtime calls (see Serve).</summary>
    private bool ServeChannel(Goroutine g, sp_request* req)
    {
        switch (req->op)
        {
            case SP_OP_CHAN_MAKE:
            {
                req->result = ChannelCore.TryCreate(req->args[0], req->args[1], visibleOutside: false, out ChannelCore? made);
                if (made is not null)
                    req->value = (long)Registry.Channels.Add(made);
                return true;
            }
            case SP_OP_CHAN_SEND:
            case SP_OP_CHAN_RECV:
                return ChanOp(g, req, req->op == SP_OP_CHAN_SEND);
            case SP_OP_CHAN_CLOSE:
                req->result = req->args[0] == 0 ? SP_EINVAL
                    : Registry.Channels.Get(req->args[0]) is ChannelCore closing ? closing.Close() : SP_ESTALE;
                return true;
            case SP_OP_CHAN_LEN:
            case SP_OP_CHAN_CAP:
            {
                if (req->args[0] == 0)
                    return true; // the nil channel: 0
                ChannelCore? queried = Registry.Channels.Get(req->args[0]);
                int n = queried is null ? SP_ESTALE : req->op == SP_OP_CHAN_LEN ? queried.Length() : queried.Capacity;
                if (n < 0) req->result = n; else req->value = n;
                return true;
            }
            case SP_OP_CHAN_RELEASE:
                req->result = req->args[0] == 0 ? SP_EINVAL : Registry.Channels.Release(req->args[0], c => c.TryMarkReleased());
                return true;
            case SP_OP_SELECT:
                return SelectOp(g, req, (sp_case*)req->args[0], (long)req->args[1], req->args[2] != 0);
            case SP_OP_AFTER:
                req->value = (long)Registry.Channels.Add(ChannelTimer.After((long)req->args[0], this, visibleOutside: false));
                return true;
            case SP_OP_TICKER_MAKE:
                if ((long)req->args[0] <= 0)
                    req->result = SP_EINVAL;
                else
                    req->value = (long)Registry.Channels.Add(ChannelTimer.Ticker((long)req->args[0], this, visibleOutside: false));
                return true;
            case SP_OP_TICKER_STOP:
            {
                ChannelCore? ticker = Registry.Channels.Get(req->args[0]);
                req->result = ticker is null ? SP_ESTALE : ticker.Timer is null ? SP_EINVAL : ticker.Timer.Stop();
                return true;
            }
            case SP_OP_MUTEX_MAKE:
                req->value = (long)Registry.Mutexes.Add(new MutexCore(visibleOutside: false));
                return true;
            case SP_OP_MUTEX_LOCK:
            {
                MutexCore? mu = Registry.Mutexes.Get(req->args[0]);
                if (mu is null)
                {
                    req->result = SP_ESTALE;
                    return true;
                }
                if (mu.TryLock())
                    return true;
                NativeParker p = NativeParker.Rent(this, g, req, 0, isSelect: false);
                if (!mu.LockOrPark(p))
                    return false;
                p.Free();
                return true;
            }
            case SP_OP_MUTEX_UNLOCK:
                req->result = Registry.Mutexes.Get(req->args[0]) is MutexCore m ? m.Unlock() : SP_ESTALE;
                return true;
            case SP_OP_MUTEX_RELEASE:
                req->result = Registry.Mutexes.Release(req->args[0], m => m.CheckIdle());
                return true;
            default:
                req->result = SP_EINVAL;
                return true;
        }
    }

    /// <summary>A send or receive: at once when it can, else the goroutine parks.</summary>
    private bool ChanOp(Goroutine g, sp_request* req, bool send)
    {
        ulong handle = req->args[0];
        byte* elem = (byte*)req->args[1];
        if (handle == 0)
        {
            // The nil channel: blocks forever (counts towards a deadlock).
            g.SetState(GoroutineState.Waiting, send ? WaitReason.ChanSendNilChan : WaitReason.ChanReceiveNilChan);
            return false;
        }
        ChannelCore? ch = Registry.Channels.Get(handle);
        if (ch is null)
        {
            req->result = SP_ESTALE;
            return true;
        }
        if (send && elem == null && ch.ElemSize != 0)
        {
            req->result = SP_EINVAL;
            return true;
        }
        NativeParker p = NativeParker.Rent(this, g, req, 1, isSelect: false);
        p.Case(0).Set(ch, send, elem);
        if (!SelectEngine.Run(p, block: true, send ? WaitReason.ChanSend : WaitReason.ChanReceive))
            return false; // parked
        p.Deliver();
        p.Free();
        return true;
    }

    private bool SelectOp(Goroutine g, sp_request* req, sp_case* cases, long n, bool hasDefault)
    {
        if (n < 0 || n > SP_SELECT_MAX_CASES || (cases == null && n > 0))
        {
            req->result = SP_EINVAL;
            return true;
        }
        NativeParker p = NativeParker.Rent(this, g, req, (int)n, isSelect: true);
        for (int i = 0; i < n; i++)
        {
            sp_case* c = &cases[i];
            ChannelCore? ch = null;
            int err = c->dir is SP_SEND or SP_RECV ? SP_OK : SP_EINVAL;
            if (err == SP_OK && c->ch != 0)
            {
                ch = Registry.Channels.Get(c->ch);
                if (ch is null)
                    err = SP_ESTALE;
                else if (c->dir == SP_SEND && c->elem == null && ch.ElemSize != 0)
                    err = SP_EINVAL;
            }
            if (err != SP_OK)
            {
                req->result = err;
                p.Free();
                return true;
            }
            p.Case(i).Set(ch, c->dir == SP_SEND, (byte*)c->elem, c->dir == SP_RECV ? c->ok : null);
        }
        if (SelectEngine.Run(p, block: !hasDefault, SelectEngine.ReasonFor(p)))
        {
            p.Deliver();
            p.Free();
            return true;
        }
        if (hasDefault)
        {
            req->value = n;
            p.Free();
            return true;
        }
        return false; // parked
    }

    /// <summary>Takes a goroutine that is parked in a channel operation or lock out of
    /// every queue, so no one delivers to it after its stack is gone (runtime stopping).</summary>
    private static unsafe void Unpark(Goroutine g)
    {
        if (g.Native->parked_on != null)
        {
            ChannelCore.RemoveNativeWaiter(g.Native->parked_on);
            g.Native->parked_on = null;
        }
        Parker? p = g.ParkedOn;
        if (p is null || !p.TryClaim(-1))
            return;
        p.Mutex?.Remove(p);
        p.Unqueue(-1);
        g.ParkedOn = null;
    }
}
