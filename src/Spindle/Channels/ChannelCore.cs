using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
/// </summary>
internal sealed unsafe class ChannelCore : IHandleOwner
{
    private static long s_nextId;

    public readonly ChanLock Lock = new();
    /// <summary>Order in which a select takes the locks of several channels.</summary>
    public readonly long Id = Interlocked.Increment(ref s_nextId);
    public readonly int ElemSize;
    public readonly int Capacity;
    private readonly byte[]? _storage; // pinned: the ring buffer
    private readonly byte* _ring;
    private int _head, _count;
    private WaiterQueue _sendq, _recvq;

    public bool Closed;
    public bool Released;
    /// <summary>Made or touched by C#: a thread outside the runtime may use it, so a
    /// goroutine waiting on it is never counted as deadlocked.</summary>
    public volatile bool VisibleOutside;
    /// <summary>The timer that feeds it, for timer and ticker channels.</summary>
    public ChannelTimer? Timer;

    public ulong Handle { get; set; }

    private ChannelCore(int elemSize, int capacity, bool visibleOutside)
    {
        ElemSize = elemSize;
        Capacity = capacity;
        VisibleOutside = visibleOutside;
        long bytes = (long)elemSize * capacity;
        if (bytes > 0)
        {
            _storage = GC.AllocateUninitializedArray<byte>((int)bytes, pinned: true);
            _ring = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        }
    }

    /// <summary>Checks the arguments of sp_chan_make: SP_OK, SP_EINVAL or SP_ENOMEM.</summary>
    public static int TryCreate(ulong elemSize, ulong capacity, bool visibleOutside, out ChannelCore? ch)
    {
        ch = null;
        if (elemSize > SP_CHAN_MAX_ELEM || capacity > int.MaxValue || elemSize * capacity > (ulong)Array.MaxLength)
            return SP_EINVAL;
        try
        {
            ch = new ChannelCore((int)elemSize, (int)capacity, visibleOutside);
            return SP_OK;
        }
        catch (OutOfMemoryException)
        {
            return SP_ENOMEM;
        }
    }

    // ------------------------------------------------------------ under Lock

    public int Count => _count;

    public bool HasWaiters => !_sendq.IsEmpty || !_recvq.IsEmpty;

    private byte* Slot(int i) => _ring + (long)i * ElemSize;

    private void Copy(byte* from, byte* to)
    {
        if (ElemSize != 0 && to != null)
            Buffer.MemoryCopy(from, to, ElemSize, ElemSize);
    }

    /// <summary>Sends the element at elem if that needs no wait: to the longest-waiting
    /// receiver (returned in woken, to be woken once no lock is held), or into the buffer.</summary>
    public ChanStatus TrySendLocked(byte* elem, ref Parker? woken)
    {
        if (Released)
            return ChanStatus.Released;
        if (Closed)
            return ChanStatus.Closed;
        while (_recvq.Dequeue() is Waiter r)
        {
            if (!r.Owner.TryClaim(r.Index))
                continue; // a select that another case has already won
            Copy(elem, r.Elem);
            r.Owner.RecvOk = true;
            woken = r.Owner;
            return ChanStatus.Done;
        }
        if (_count < Capacity)
        {
            Copy(elem, Slot((_head + _count) % Capacity));
            _count++;
            return ChanStatus.Done;
        }
        return ChanStatus.WouldBlock;
    }

    /// <summary>Receives into elem (null: discard) if that needs no wait: from a parked
    /// sender, the buffer, or a closed channel's zero value (ok false).</summary>
    public ChanStatus TryRecvLocked(byte* elem, out bool ok, ref Parker? woken)
    {
        ok = false;
        if (Released)
            return ChanStatus.Released;
        while (_sendq.Dequeue() is Waiter s)
        {
            if (!s.Owner.TryClaim(s.Index))
                continue;
            if (Capacity == 0)
            {
                Copy(s.Elem, elem);
            }
            else
            {
                // A sender waits only on a full buffer: take its head, and the
                // sender's element becomes the tail, which is the slot just freed.
                Copy(Slot(_head), elem);
                Copy(s.Elem, Slot(_head));
                _head = (_head + 1) % Capacity;
            }
            woken = s.Owner;
            ok = true;
            return ChanStatus.Done;
        }
        if (_count > 0)
        {
            Copy(Slot(_head), elem);
            _head = (_head + 1) % Capacity;
            _count--;
            ok = true;
            return ChanStatus.Done;
        }
        if (Closed)
        {
            if (ElemSize != 0 && elem != null)
                new Span<byte>(elem, ElemSize).Clear();
            return ChanStatus.Done;
        }
        return ChanStatus.WouldBlock;
    }

    public void EnqueueLocked(Waiter w)
    {
        if (w.IsSend) _sendq.Enqueue(w); else _recvq.Enqueue(w);
    }

    public void RemoveWaiter(Waiter w)
    {
        if (w.IsSend) _sendq.Remove(w); else _recvq.Remove(w);
    }

    /// <summary>Closes: every parked receiver gets the zero value with ok false, every
    /// parked sender SP_ECLOSED; they are returned as a list (NextParker) to wake.</summary>
    public int CloseLocked(out Parker? woken)
    {
        woken = null;
        if (Released)
            return SP_ESTALE;
        if (Closed)
            return SP_ECLOSED;
        Closed = true;
        while (_recvq.Dequeue() is Waiter r)
        {
            if (!r.Owner.TryClaim(r.Index))
                continue;
            if (ElemSize != 0 && r.Elem != null)
                new Span<byte>(r.Elem, ElemSize).Clear();
            r.Owner.RecvOk = false;
            r.Owner.NextParker = woken;
            woken = r.Owner;
        }
        while (_sendq.Dequeue() is Waiter s)
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
        Parker? woken = null;
        ChanStatus status;
        Lock.Enter();
        status = TrySendLocked(elem, ref woken);
        Lock.Exit();
        woken?.Wake();
        return status;
    }

    /// <summary>A receive that does not wait.</summary>
    public ChanStatus TryRecv(byte* elem, out bool ok)
    {
        Parker? woken = null;
        ChanStatus status;
        Lock.Enter();
        status = TryRecvLocked(elem, out ok, ref woken);
        Lock.Exit();
        woken?.Wake();
        return status;
    }

    public int Close()
    {
        Lock.Enter();
        int err = CloseLocked(out Parker? woken);
        Lock.Exit();
        while (woken is not null)
        {
            Parker? next = woken.NextParker;
            woken.NextParker = null;
            woken.Wake();
            woken = next;
        }
        return err;
    }

    public int Length()
    {
        using (Lock.Hold())
            return Released ? SP_ESTALE : _count;
    }

    /// <summary>Marks the channel released unless someone waits on it (under the handle
    /// table's lock).</summary>
    public int TryMarkReleased()
    {
        using (Lock.Hold())
        {
            if (HasWaiters)
                return SP_ESTATE;
            Released = true;
            return SP_OK;
        }
    }
}
