using System.Reflection;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>
/// A Go channel of unmanaged values: unbuffered (capacity 0) or buffered, FIFO, with close.
/// One channel connects any mix of managed goroutines (<see cref="SendAsync"/>,
/// <see cref="ReceiveAsync"/>), plain threads (<see cref="Send"/>, <see cref="Receive()"/>,
/// which block the thread) and native goroutines (through <see cref="Handle"/>, an
/// <c>sp_chan</c>). A type with no fields (<c>struct Signal {}</c>) makes a zero-size
/// signal channel, Go's <c>chan struct{}</c>. The channel itself lives in libspindle's
/// engine, which owns its rules; this object names it.
/// </summary>
/// <typeparam name="T">The element type; at most 65,535 bytes.</typeparam>
public sealed unsafe class Chan<T> where T : unmanaged
{
    /// <summary>The size an element has in the channel: 0 for a type without fields.</summary>
    internal static readonly int ElemSize =
        typeof(T).GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Length == 0 ? 0 : sizeof(T);

    private readonly ulong _handle;
    /// <summary>C# made it: released when this object is collected (or by ReleaseHandle).</summary>
    private readonly bool _owned;
    private int _released;
    /// <summary>What drives a timer channel made while no runtime ran (a .NET timer).</summary>
    internal IDisposable? Driver;

    /// <summary>Makes a channel with room for capacity values (0: unbuffered).</summary>
    /// <exception cref="ArgumentOutOfRangeException">capacity is negative, or the buffer
    /// would exceed 2 GiB.</exception>
    /// <exception cref="ArgumentException">T is larger than 65,535 bytes.</exception>
    public Chan(int capacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        if (ElemSize > SP_CHAN_MAX_ELEM)
            throw new ArgumentException($"spindle: channel element type {typeof(T).Name} is {ElemSize} bytes; the limit is {SP_CHAN_MAX_ELEM}");
        ulong h;
        int err = sp_host_chan_make(&h, ElemSize, capacity);
        if (err == SP_EINVAL)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"spindle: a buffer of {capacity} x {ElemSize} bytes is too large");
        SpindleError.ThrowIfError(err, "spindle: making a channel");
        _handle = h;
        _owned = true;
    }

    /// <summary>A channel made elsewhere: owned says whether this object releases it.</summary>
    internal Chan(ulong handle, bool owned)
    {
        _handle = handle;
        _owned = owned;
        if (!owned)
            GC.SuppressFinalize(this);
    }

    /// <summary>Releases a channel C# made once nothing references it (parties still waiting
    /// on it, which only native code can be then, get SP_ESTALE).</summary>
    ~Chan()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
            return;
        Driver?.Dispose();
        sp_wakes w;
        sp_host_release(_handle, &w);
        Engine.Finish(w);
    }

    /// <summary>The channel a native goroutine made (sp_chan_make, sp_after, ...). The
    /// goroutine's runtime owns it: it lives until native code releases it or that runtime
    /// stops, and a goroutine waiting on it no longer counts towards a deadlock (this object
    /// may still wake it).</summary>
    /// <exception cref="ObjectDisposedException">The handle is released or was never issued.</exception>
    /// <exception cref="ArgumentException">The handle is not a channel's, or its element
    /// size is not T's.</exception>
    public static Chan<T> FromHandle(ulong handle)
    {
        int size = sp_host_chan_elem_size(handle);
        if (size == SP_EINVAL)
            throw new ArgumentException($"spindle: 0x{handle:x} is not a channel handle", nameof(handle));
        if (size < 0)
            throw new ObjectDisposedException("Chan", $"spindle: channel handle 0x{handle:x} is released or unknown");
        if (size != ElemSize)
            throw new ArgumentException($"spindle: channel 0x{handle:x} carries {size}-byte elements, {typeof(T).Name} is {ElemSize}");
        sp_host_mark_outside(handle);
        return new Chan<T>(handle, owned: false);
    }

    /// <summary>The sp_chan handle native goroutines use for this channel. It is valid while
    /// this object is alive: keep it reachable for as long as native code uses the handle.</summary>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    public ulong Handle
    {
        get
        {
            ThrowIfReleased();
            return _handle;
        }
    }

    internal ulong RawHandle => _handle;

    /// <summary>Releases the channel now instead of when this object is collected: native
    /// code using the handle then gets SP_ESTALE, and this object throws
    /// ObjectDisposedException. Releasing twice does nothing.</summary>
    /// <exception cref="InvalidOperationException">The channel is one a native goroutine made
    /// (release it with sp_chan_release).</exception>
    public void ReleaseHandle()
    {
        if (!_owned)
            throw new InvalidOperationException("spindle: this channel belongs to the native goroutine that made it: release it with sp_chan_release");
        if (Interlocked.Exchange(ref _released, 1) != 0)
            return;
        GC.SuppressFinalize(this);
        Driver?.Dispose();
        sp_wakes w;
        sp_host_release(_handle, &w);
        Engine.Finish(w);
    }

    private void ThrowIfReleased()
    {
        if (Volatile.Read(ref _released) != 0)
            throw new ObjectDisposedException("Chan", "spindle: the channel was released");
    }

    /// <summary>The capacity (Go's cap).</summary>
    public int Capacity => Check(sp_host_chan_cap(_handle));

    /// <summary>Values buffered now (Go's len).</summary>
    public int Count => Check(sp_host_chan_len(_handle));

    private static int Check(int n) => n >= 0 ? n : throw SpindleError.ForChannel(n);

    /// <summary>Sends value, blocking the calling thread until a receiver takes it
    /// (unbuffered) or there is room. For plain threads; in a goroutine use
    /// <see cref="SendAsync"/>.</summary>
    /// <exception cref="ChannelClosedException">The channel is or becomes closed.</exception>
    /// <exception cref="InvalidOperationException">Called on a worker thread (always: it
    /// would block every goroutine there whenever it has to wait).</exception>
    public void Send(T value)
    {
        ThreadParty p = ThreadParty.Rent("Chan.Send");
        sp_wakes w;
        int rc = sp_host_chan_send(null, _handle, &value, p.Party, &w);
        Engine.Finish(w);
        rc = p.Wait(rc);
        p.Return();
        SpindleError.ThrowIfChannelFailed(rc);
    }

    /// <summary>Receives a value, blocking the calling thread; from a closed, drained
    /// channel the zero value. For plain threads (refused on a worker thread).</summary>
    public T Receive() => Receive(out _);

    /// <summary>Receives a value, blocking the calling thread; ok is false when the channel
    /// is closed and drained (the value is then the zero value). For plain threads.</summary>
    public T Receive(out bool ok)
    {
        ThreadParty p = ThreadParty.Rent("Chan.Receive");
        T value = default;
        bool got;
        sp_wakes w;
        int rc = sp_host_chan_recv(null, _handle, &value, &got, p.Party, &w);
        Engine.Finish(w);
        if (rc == SP_PARKED)
        {
            rc = p.Wait(rc);
            got = p.Party->ok != 0;
        }
        p.Return();
        SpindleError.ThrowIfChannelFailed(rc);
        ok = got;
        return value;
    }

    /// <summary>Sends value; in a managed goroutine, waiting parks the goroutine, not its
    /// worker.</summary>
    /// <exception cref="ChannelClosedException">The channel is or becomes closed.</exception>
    public ValueTask SendAsync(T value)
    {
        ChanOp<T> op = ChanOp<T>.Rent(this, value);
        sp_wakes w;
        int rc = sp_host_chan_send(op.Here, _handle, op.Elem, op.Party, &w);
        Engine.Finish(w);
        return op.AnswerSend(rc);
    }

    /// <summary>Receives a value; the zero value once the channel is closed and drained.</summary>
    public ValueTask<T> ReceiveAsync()
    {
        ChanOp<T> op = ChanOp<T>.Rent(this, default);
        bool ok;
        sp_wakes w;
        int rc = sp_host_chan_recv(op.Here, _handle, op.Elem, &ok, op.Party, &w);
        Engine.Finish(w);
        return op.AnswerReceive(rc);
    }

    /// <summary>Receives a value and whether one was sent (Go's <c>v, ok := &lt;-ch</c>):
    /// Ok is false once the channel is closed and drained.</summary>
    public ValueTask<(T Value, bool Ok)> ReceiveOkAsync()
    {
        ChanOp<T> op = ChanOp<T>.Rent(this, default);
        bool ok;
        sp_wakes w;
        int rc = sp_host_chan_recv(op.Here, _handle, op.Elem, &ok, op.Party, &w);
        Engine.Finish(w);
        return op.AnswerReceiveOk(rc, ok);
    }

    /// <summary>Sends value if that needs no wait (Go's select with a default case).</summary>
    /// <exception cref="ChannelClosedException">The channel is closed.</exception>
    public bool TrySend(T value)
    {
        sp_wakes w;
        int rc = sp_host_chan_send(Engine.Here, _handle, &value, null, &w);
        Engine.Finish(w);
        if (rc == SP_WOULD_BLOCK)
            return false;
        SpindleError.ThrowIfChannelFailed(rc);
        return true;
    }

    /// <summary>Receives a value if one is there without waiting; false otherwise,
    /// and false once the channel is closed and drained.</summary>
    public bool TryReceive(out T value) => TryReceive(out value, out bool ok) && ok;

    /// <summary>Receives without waiting: true when the receive happened, with ok false
    /// for the zero value of a closed, drained channel.</summary>
    public bool TryReceive(out T value, out bool ok)
    {
        T v = default;
        bool got;
        sp_wakes w;
        int rc = sp_host_chan_recv(Engine.Here, _handle, &v, &got, null, &w);
        Engine.Finish(w);
        value = v;
        ok = rc == SP_OK && got;
        if (rc == SP_WOULD_BLOCK)
            return false;
        SpindleError.ThrowIfChannelFailed(rc);
        return true;
    }

    /// <summary>Closes the channel: receivers drain the buffer, then get the zero value
    /// with ok false; parked senders get <see cref="ChannelClosedException"/>.</summary>
    /// <exception cref="ChannelClosedException">It is already closed.</exception>
    public void Close()
    {
        sp_wakes w;
        int err = sp_host_chan_close(Engine.Here, _handle, &w);
        Engine.Finish(w);
        if (err == SP_ECLOSED)
            throw new ChannelClosedException("spindle: close of closed channel");
        SpindleError.ThrowIfChannelFailed(err);
    }

    /// <summary>Receives until the channel is closed and drained (Go's <c>for v := range ch</c>).</summary>
    public async IAsyncEnumerable<T> ReadAllAsync()
    {
        while (true)
        {
            (T value, bool ok) = await ReceiveOkAsync();
            if (!ok)
                yield break;
            yield return value;
        }
    }
}
