using Spindle.Interop;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

/// <summary>What an attempt at a channel operation came to.</summary>
internal enum ChanStatus
{
    /// <summary>Performed.</summary>
    Done,
    /// <summary>It would have to wait.</summary>
    WouldBlock,
    /// <summary>A send on a closed channel.</summary>
    Closed,
    /// <summary>The channel's handle was released.</summary>
    Released,
}

/// <summary>
/// A channel of fixed-size elements with Go's semantics (runtime/chan.go): a ring buffer of
/// capacity elements and FIFO queues of parked senders and receivers, all under one lock.
/// An element goes straight from a sender to a parked receiver's memory (or the other way
/// round) without touching the buffer. Shared by every kind of user: native goroutines
/// through handles, managed goroutines and threads through <see cref="Chan{T}"/>.
/// The buffer, the lock, the counters and a second pair of queues, for native goroutines
/// that parked without a runtime call, live in native memory (sp_chan_state), where
/// native goroutines serve the common cases themselves (chan_fast.c) while no party
/// queued here waits; this class serves everything else and both pairs of queues.
/// </summary>
internal sealed unsafe class ChannelCore : IHandleOwner
{
    private static long s_nextId;

    public readonly ChanLock Lock;
    /// <summary>Order in which a select takes the locks of several channels.</summary>
    public readonly long Id = Interlocked.Increment(ref s_nextId);
    public readonly int ElemSize;
    public readonly int Capacity;
    private readonly sp_chan_state* _state;
    private WaiterQueue _sendq, _recvq;
    private ulong _handle;
    private volatile bool _visibleOutside;
    /// <summary>The timer that feeds it, for timer and ticker channels.</summary>
    public ChannelTimer? Timer;

    /// <summary>The handle it is registered under, or 0; registering publishes it to the
    /// native fast path too (which then simply misses it if that runs out of memory).</summary>
    public ulong Handle
    {
        get => _handle;
        set
        {
            _handle = value;
            if (value != 0)
                sp_chan_publish(value, _state);
        }
    }

    /// <summary>Made or touched by C#: a thread outside the runtime may use it, so a
    /// goroutine waiting on it is never counted as deadlocked. Native goroutines then
    /// leave every operation on it to the runtime, which does that counting.</summary>
    public bool VisibleOutside
    {
        get => _visibleOutside;
        set
        {
            if (!value || _visibleOutside)
                return;
            Lock.Enter();
            _state->flags |= SP_CHAN_OUTSIDE;
            _visibleOutside = true;
            Lock.Exit();
        }
    }

    public bool Closed => (_state->flags & SP_CHAN_CLOSED) != 0;
    public bool Released => (Volatile.Read(ref _state->flags) & SP_CHAN_RELEASED) != 0;

    private ChannelCore(sp_chan_state* state, bool visibleOutside)
    {
        _state = state;
        ElemSize = state->elem_size;
        Capacity = state->capacity;
        Lock = new ChanLock(&state->@lock);
        if (visibleOutside)
        {
            state->flags |= SP_CHAN_OUTSIDE;
            _visibleOutside = true;
        }
    }

    /// <summary>Its native state goes back to libspindle's pool (never to the system: a
    /// stale handle may still lead the fast path to it, which then finds no match).</summary>
    ~ChannelCore() => sp_chan_state_free(_state);

    /// <summary>Checks the arguments of sp_chan_make: SP_OK, SP_EINVAL or SP_ENOMEM.</summary>
    public static int TryCreate(ulong elemSize, ulong capacity, bool visibleOutside, out ChannelCore? ch)
    {
        ch = null;
        if (elemSize > SP_CHAN_MAX_ELEM || capacity > int.MaxValue || elemSize * capacity > (ulong)Array.MaxLength)
            return SP_EINVAL;
        sp_chan_state* state;
        int err = sp_chan_state_make(&state, (int)elemSize, (int)capacity);
        if (err == SP_OK)
            ch = new ChannelCore(state, visibleOutside);
        return err;
    }

    // ------------------------------------------------------------ under Lock

    public int Count => _state->count;

    public bool HasWaiters => !_sendq.IsEmpty || !_recvq.IsEmpty ||
        _state->send_first != null || _state->recv_first != null;

    private byte* Slot(int i) => _state->buffer + (long)i * ElemSize;

    private void Copy(byte* from, byte* to)
    {
        if (ElemSize != 0 && to != null)
            Buffer.MemoryCopy(from, to, ElemSize, ElemSize);
    }

    private void Clear(byte* elem)
    {
        if (ElemSize != 0 && elem != null)
            new Span<byte>(elem, ElemSize).Clear();
    }

    private Waiter? Dequeue(ref WaiterQueue q)
    {
        Waiter? w = q.Dequeue();
        if (w is not null)
            _state->managed_waiters--;
        return w;
    }

    /// <summary>Sends the element at elem if that needs no wait: to the longest-waiting
    /// receiver (returned in woken, to be woken once no lock is held), or into the buffer.</summary>
    public ChanStatus TrySendLocked(byte* elem, ref Woken woken)
    {
        if (Released)
            return ChanStatus.Released;
        if (Closed)
            return ChanStatus.Closed;
        sp_chan_waiter* nr = sp_chan_take_waiter(_state, false);
        if (nr != null)
        {
            Copy(elem, (byte*)nr->elem);
            nr->ok = 1;
            nr->result = SP_OK;
            woken.Add(nr);
            return ChanStatus.Done;
        }
        while (Dequeue(ref _recvq) is Waiter r)
        {
            if (!r.Owner.TryClaim(r.Index))
                continue; // a select that another case has already won
            Copy(elem, r.Elem);
            r.Owner.RecvOk = true;
            woken.Parker = r.Owner;
            return ChanStatus.Done;
        }
        if (_state->count < Capacity)
        {
            Copy(elem, Slot((_state->head + _state->count) % Capacity));
            _state->count++;
            return ChanStatus.Done;
        }
        return ChanStatus.WouldBlock;
    }

    /// <summary>Receives into elem (null: discard) if that needs no wait: from a parked
    /// sender, the buffer, or a closed channel's zero value (ok false).</summary>
    public ChanStatus TryRecvLocked(byte* elem, out bool ok, ref Woken woken)
    {
        ok = false;
        if (Released)
            return ChanStatus.Released;
        sp_chan_waiter* ns = sp_chan_take_waiter(_state, true);
        if (ns != null)
        {
            TakeFromSender((byte*)ns->elem, elem);
            ns->result = SP_OK;
            woken.Add(ns);
            ok = true;
            return ChanStatus.Done;
        }
        while (Dequeue(ref _sendq) is Waiter s)
        {
            if (!s.Owner.TryClaim(s.Index))
                continue;
            TakeFromSender(s.Elem, elem);
            woken.Parker = s.Owner;
            ok = true;
            return ChanStatus.Done;
        }
        if (_state->count > 0)
        {
            Copy(Slot(_state->head), elem);
            _state->head = (_state->head + 1) % Capacity;
            _state->count--;
            ok = true;
            return ChanStatus.Done;
        }
        if (Closed)
        {
            Clear(elem);
            return ChanStatus.Done;
        }
        return ChanStatus.WouldBlock;
    }

    /// <summary>The element of a parked sender into elem.</summary>
    private void TakeFromSender(byte* sent, byte* elem)
    {
        if (Capacity == 0)
        {
            Copy(sent, elem);
            return;
        }
        // A sender waits only on a full buffer: take its head, and the sender's
        // element becomes the tail, which is the slot just freed.
        Copy(Slot(_state->head), elem);
        Copy(sent, Slot(_state->head));
        _state->head = (_state->head + 1) % Capacity;
    }

    public void EnqueueLocked(Waiter w)
    {
        if (w.IsSend) _sendq.Enqueue(w); else _recvq.Enqueue(w);
        _state->managed_waiters++;
    }

    public void RemoveWaiter(Waiter w)
    {
        if (!w.Queued)
            return;
        if (w.IsSend) _sendq.Remove(w); else _recvq.Remove(w);
        _state->managed_waiters--;
    }

    /// <summary>Closes: every parked receiver gets the zero value with ok false, every
    /// parked sender SP_ECLOSED; managed parties are returned as a list (NextParker) to
    /// wake, native goroutines in natives.</summary>
    public int CloseLocked(out Parker? woken, out Woken natives)
    {
        woken = null;
        natives = default;
        if (Released)
            return SP_ESTALE;
        if (Closed)
            return SP_ECLOSED;
        _state->flags |= SP_CHAN_CLOSED;
        for (sp_chan_waiter* r; (r = sp_chan_take_waiter(_state, false)) != null;)
        {
            Clear((byte*)r->elem);
            r->ok = 0;
            r->result = SP_OK;
            natives.Add(r);
        }
        for (sp_chan_waiter* s; (s = sp_chan_take_waiter(_state, true)) != null;)
        {
            s->result = SP_ECLOSED;
            natives.Add(s);
        }
        while (Dequeue(ref _recvq) is Waiter r)
        {
            if (!r.Owner.TryClaim(r.Index))
                continue;
            Clear(r.Elem);
            r.Owner.RecvOk = false;
            r.Owner.NextParker = woken;
            woken = r.Owner;
        }
        while (Dequeue(ref _sendq) is Waiter s)
        {
            if (!s.Owner.TryClaim(s.Index))
                continue;
            s.Owner.Result = SP_ECLOSED;
            s.Owner.NextParker = woken;
            woken = s.Owner;
        }
        return SP_OK;
    }

    // ------------------------------------------------------------ single operations

    /// <summary>A send that does not wait: Done, WouldBlock, Closed or Released.</summary>
    public ChanStatus TrySend(byte* elem)
    {
        Woken woken = default;
        ChanStatus status;
        Lock.Enter();
        status = TrySendLocked(elem, ref woken);
        Lock.Exit();
        woken.Wake();
        return status;
    }

    /// <summary>A receive that does not wait.</summary>
    public ChanStatus TryRecv(byte* elem, out bool ok)
    {
        Woken woken = default;
        ChanStatus status;
        Lock.Enter();
        status = TryRecvLocked(elem, out ok, ref woken);
        Lock.Exit();
        woken.Wake();
        return status;
    }

    public int Close()
    {
        Lock.Enter();
        int err = CloseLocked(out Parker? woken, out Woken natives);
        Lock.Exit();
        while (woken is not null)
        {
            Parker? next = woken.NextParker;
            woken.NextParker = null;
            woken.Wake();
            woken = next;
        }
        natives.Wake();
        return err;
    }

    public int Length()
    {
        using (Lock.Hold())
            return Released ? SP_ESTALE : _state->count;
    }

    /// <summary>Marks the channel released unless someone waits on it (under the handle
    /// table's lock); the native fast path no longer finds it.</summary>
    public int TryMarkReleased()
    {
        using (Lock.Hold())
        {
            if (HasWaiters)
                return SP_ESTATE;
            _state->flags |= SP_CHAN_RELEASED;
            if (_handle != 0)
                sp_chan_unpublish(_handle);
            return SP_OK;
        }
    }

    /// <summary>Takes a native goroutine's waiter out of its channel's queue (the runtime
    /// is discarding the goroutine).</summary>
    public static void RemoveNativeWaiter(sp_chan_waiter* w)
    {
        sp_chan_state* ch = w->chan;
        if (ch == null)
            return;
        var held = new ChanLock(&ch->@lock);
        held.Enter();
        sp_chan_remove_waiter(w);
        held.Exit();
    }
}

/// <summary>Who an operation completed, to wake once no channel lock is held: a managed
/// party (one parker), native goroutines parked without a runtime call (a list).</summary>
internal unsafe struct Woken
{
    public Parker? Parker;
    private sp_chan_waiter* _natives; // linked through next, once out of their queue

    /// <summary>Under the channel's lock, after taking w out of its queue.</summary>
    public void Add(sp_chan_waiter* w)
    {
        w->g->parked_on = null;
        w->next = _natives;
        _natives = w;
    }

    public void Wake()
    {
        Parker?.Wake();
        for (sp_chan_waiter* w = _natives; w != null;)
        {
            sp_chan_waiter* next = w->next; // w lives on g's stack: read it before g runs
            sp_g* g = w->g;
            w = next;
            Runtime.CurrentScheduler?.ReadyParkedNative(g);
        }
    }
}
