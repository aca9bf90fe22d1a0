namespace Spindle;

/// <summary>One case of a blocked operation, queued on its channel (Go's sudog): which
/// channel, which way, and where the element is. The memory at <see cref="Elem"/> belongs
/// to the party that waits (a native goroutine's stack, a blocked thread's stack, a
/// parker's buffer) and stays put while it waits, so a counterpart copies straight into
/// or out of it.</summary>
internal sealed unsafe class Waiter
{
    public readonly Parker Owner;
    public readonly int Index;

    public ChannelCore? Channel;
    public bool IsSend;
    /// <summary>The element to send, or where to receive (null: discard).</summary>
    public byte* Elem;
    /// <summary>A native select's ok flag for this receive case, or null.</summary>
    public bool* OkOut;

    // Links in the channel's send or receive queue (under the channel's lock).
    public Waiter? Prev, Next;
    public bool Queued;

    public Waiter(Parker owner, int index)
    {
        Owner = owner;
        Index = index;
    }

    public void Set(ChannelCore? channel, bool isSend, byte* elem, bool* okOut = null)
    {
        Channel = channel;
        IsSend = isSend;
        Elem = elem;
        OkOut = okOut;
    }
}

/// <summary>A channel's queue of parked senders or receivers: FIFO, intrusive, changed
/// only under the channel's lock.</summary>
internal struct WaiterQueue
{
    public Waiter? First, Last;

    public readonly bool IsEmpty => First is null;

    public void Enqueue(Waiter w)
    {
        w.Next = null;
        w.Prev = Last;
        if (Last is null) First = w; else Last.Next = w;
        Last = w;
        w.Queued = true;
    }

    public Waiter? Dequeue()
    {
        Waiter? w = First;
        if (w is not null)
            Remove(w);
        return w;
    }

    public void Remove(Waiter w)
    {
        if (w.Prev is null) First = w.Next; else w.Prev.Next = w.Next;
        if (w.Next is null) Last = w.Prev; else w.Next.Prev = w.Prev;
        w.Prev = w.Next = null;
        w.Queued = false;
    }
}
