using System.Reflection;
using System.Runtime.CompilerServices;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>
/// A Go channel of unmanaged values: unbuffered (capacity 0) or buffered, FIFO, with close.
/// One channel connects any mix of managed goroutines (<see cref="SendAsync"/>,
/// <see cref="ReceiveAsync"/>), plain threads (<see cref="Send"/>, <see cref="Receive(CancellationToken)"/>,
/// which block the thread) and native goroutines (through <see cref="Handle"/>, an
/// <c>sp_chan</c>). A type with no fields (<c>struct Signal {}</c>) makes a zero-size
/// signal channel, Go's <c>chan struct{}</c>. The channel itself lives in libspindle's
/// engine, which owns its rules; this object names it.
/// </summary>
/// <typeparam name="T">The element type; at most 65,535 bytes.</typeparam>
public sealed unsafe class Chan<T> : IWaitedOn where T : unmanaged
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

    /// <summary>Makes a channel with room for capacity values (0: unbuffered); Go's
    /// <c>make(chan T, capacity)</c>.</summary>
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

    /// <summary>The channel a native goroutine made (sp_chan_make, sp_after, ...); Go has
    /// no such bridge, a Go channel is one value in one language. The
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

    /// <summary>The sp_chan handle native goroutines use for this channel (Go has none: the
    /// channel value itself is passed). It is valid while
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

    ulong IWaitedOn.WaitedOnHandle => _handle;

    /// <summary>Releases the channel now instead of when this object is collected (what Go's
    /// collector does, at a time of its own): native
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

    /// <summary>Values buffered now, 0 for a released channel (nothing more comes from it).</summary>
    internal int Buffered => Math.Max(sp_host_chan_len(_handle), 0);

    private static int Check(int n) => n >= 0 ? n : throw SpindleError.ForChannel(n);

    /// <summary>Sends value, blocking the calling thread until a receiver takes it
    /// (unbuffered) or there is room (Go's <c>ch &lt;- v</c>). For plain threads; in a
    /// goroutine use <see cref="SendAsync"/>.</summary>
    /// <param name="value">The value to send.</param>
    /// <param name="cancellationToken">Ends the wait: nothing is sent then, and the value
    /// stays the caller's. A send that a receiver completed first is not cancelled.</param>
    /// <exception cref="ChannelClosedException">The channel is or becomes closed.</exception>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// the value went.</exception>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    /// <exception cref="InvalidOperationException">Called on a worker thread (always: it
    /// would block every goroutine there whenever it has to wait).</exception>
    public void Send(T value, CancellationToken cancellationToken = default)
    {
        ThreadParty p = ThreadParty.Rent("Chan.Send", cancellationToken);
        sp_wakes w;
        int rc = sp_host_chan_send(null, _handle, &value, p.Party, &w);
        Engine.Finish(w);
        Outcome outcome = p.Wait(rc, cancellationToken);
        p.Return();
        outcome.ThrowIfCancelled();
        SpindleError.ThrowIfChannelFailed(outcome.Result);
    }

    /// <summary>Receives a value, blocking the calling thread (Go's <c>v := &lt;-ch</c>);
    /// from a closed, drained channel the zero value. For plain threads (refused on a worker
    /// thread).</summary>
    /// <param name="cancellationToken">Ends the wait: no value is taken then.</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// a value came.</exception>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public T Receive(CancellationToken cancellationToken = default) => Receive(out _, cancellationToken);

    /// <summary>Receives a value, blocking the calling thread (Go's <c>v, ok := &lt;-ch</c>);
    /// ok is false when the channel is closed and drained (the value is then the zero value).
    /// For plain threads.</summary>
    /// <param name="ok">False for the zero value of a closed, drained channel.</param>
    /// <param name="cancellationToken">Ends the wait: no value is taken then.</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// a value came.</exception>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public T Receive(out bool ok, CancellationToken cancellationToken = default)
    {
        ThreadParty p = ThreadParty.Rent("Chan.Receive", cancellationToken);
        T value = default;
        bool got;
        sp_wakes w;
        int rc = sp_host_chan_recv(null, _handle, &value, &got, p.Party, &w);
        Engine.Finish(w);
        Outcome outcome = p.Wait(rc, cancellationToken);
        if (rc == SP_PARKED)
            got = p.Party->ok != 0;
        p.Return();
        outcome.ThrowIfCancelled();
        SpindleError.ThrowIfChannelFailed(outcome.Result);
        ok = got;
        return value;
    }

    /// <summary>Sends value (Go's <c>ch &lt;- v</c>); in a managed goroutine, waiting parks
    /// the goroutine, not its worker.</summary>
    /// <param name="value">The value to send.</param>
    /// <param name="cancellationToken">Ends the wait: the sender leaves the channel's queue,
    /// nothing is sent, and the value stays the caller's. A token already cancelled sends
    /// nothing even when a receiver waits. A send that a receiver completed first is not
    /// cancelled.</param>
    /// <exception cref="ChannelClosedException">The channel is or becomes closed.</exception>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// the value went (the exception carries the token).</exception>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    public ValueTask SendAsync(T value, CancellationToken cancellationToken = default) =>
        SendCore(value, null, cancellationToken);

    /// <summary>A send for Chan's own API (adapter null) or for its BCL writer.</summary>
    internal ValueTask SendCore(T value, ChanReader<T>? adapter, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        ChanOp<T> op = ChanOp<T>.Rent(this, value, adapter);
        sp_wakes w;
        int rc = sp_host_chan_send(op.Here, _handle, op.Elem, op.Party, &w);
        Engine.Finish(w);
        return op.AnswerSend(rc, cancellationToken);
    }

    /// <summary>Receives a value (Go's <c>v := &lt;-ch</c>); the zero value once the
    /// channel is closed and drained.</summary>
    /// <param name="cancellationToken">Ends the wait: the receiver leaves the channel's
    /// queue and takes no value. A token already cancelled takes nothing even when a value
    /// is ready (the BCL's ReadAsync does the same; Go's select would take it).</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// a value came (the exception carries the token).</exception>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    public ValueTask<T> ReceiveAsync(CancellationToken cancellationToken = default) =>
        ReceiveCore(null, cancellationToken);

    /// <summary>A receive for Chan's own API (adapter null) or for its BCL reader.</summary>
    internal ValueTask<T> ReceiveCore(ChanReader<T>? adapter, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<T>(cancellationToken);
        ChanOp<T> op = ChanOp<T>.Rent(this, default, adapter);
        bool ok;
        sp_wakes w;
        int rc = sp_host_chan_recv(op.Here, _handle, op.Elem, &ok, op.Party, &w);
        Engine.Finish(w);
        return op.AnswerReceive(rc, ok, cancellationToken);
    }

    /// <summary>Receives a value and whether one was sent (Go's <c>v, ok := &lt;-ch</c>):
    /// Ok is false once the channel is closed and drained.</summary>
    /// <param name="cancellationToken">Ends the wait as for <see cref="ReceiveAsync"/>.</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before
    /// a value came.</exception>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    public ValueTask<(T Value, bool Ok)> ReceiveOkAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<(T, bool)>(cancellationToken);
        ChanOp<T> op = ChanOp<T>.Rent(this, default, null);
        bool ok;
        sp_wakes w;
        int rc = sp_host_chan_recv(op.Here, _handle, op.Elem, &ok, op.Party, &w);
        Engine.Finish(w);
        return op.AnswerReceiveOk(rc, ok, cancellationToken);
    }

    /// <summary>Sends value if that needs no wait (Go's <c>select { case ch &lt;- v:
    /// default: }</c>): an unbuffered channel takes it only when a receiver waits.</summary>
    /// <exception cref="ChannelClosedException">The channel is closed.</exception>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    public bool TrySend(T value)
    {
        int rc = TrySendCore(value);
        if (rc == SP_WOULD_BLOCK)
            return false;
        SpindleError.ThrowIfChannelFailed(rc);
        return true;
    }

    /// <summary>A send without a wait: SP_OK, SP_WOULD_BLOCK or an error.</summary>
    internal int TrySendCore(T value)
    {
        sp_wakes w;
        int rc = sp_host_chan_send(Engine.Here, _handle, &value, null, &w);
        Engine.Finish(w);
        return rc;
    }

    /// <summary>Receives a value if one is there without waiting (Go's <c>select { case v
    /// := &lt;-ch: default: }</c>); false otherwise, and false once the channel is closed and
    /// drained.</summary>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    public bool TryReceive(out T value) => TryReceive(out value, out bool ok) && ok;

    /// <summary>Receives without waiting (Go's <c>select { case v, ok := &lt;-ch: default:
    /// }</c>): true when the receive happened, with ok false for the zero value of a closed,
    /// drained channel.</summary>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
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

    /// <summary>Closes the channel (Go's <c>close(ch)</c>): receivers drain the buffer, then
    /// get the zero value with ok false; parked senders get
    /// <see cref="ChannelClosedException"/>. The same as <see cref="Writer"/>'s
    /// TryComplete without an error.</summary>
    /// <exception cref="ChannelClosedException">It is already closed.</exception>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    public void Close()
    {
        int err = _adapter is { } adapter ? adapter.Close(null) : CloseCore();
        if (err == SP_ECLOSED)
            throw new ChannelClosedException("spindle: close of closed channel");
        SpindleError.ThrowIfChannelFailed(err);
    }

    /// <summary>The engine's close: SP_OK, SP_ECLOSED or an error.</summary>
    internal int CloseCore()
    {
        sp_wakes w;
        int err = sp_host_chan_close(Engine.Here, _handle, &w);
        Engine.Finish(w);
        return err;
    }

    /// <summary>Receives until the channel is closed and drained (Go's <c>for v := range
    /// ch</c>).</summary>
    /// <param name="cancellationToken">Ends the enumeration with OperationCanceledException;
    /// a receive it cancels takes no value.</param>
    public async IAsyncEnumerable<T> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            (T value, bool ok) = await ReceiveOkAsync(cancellationToken);
            if (!ok)
                yield break;
            yield return value;
        }
    }

    private ChanReader<T>? _adapter;

    /// <summary>This channel as a <see cref="System.Threading.Channels.ChannelReader{T}"/>,
    /// for code written against System.Threading.Channels (the same object every time). It
    /// keeps Go's semantics where the two differ: an unbuffered channel is a rendezvous, so
    /// WaitToReadAsync receives the value it waits for (the sender's send completes then) and
    /// keeps it for this reader's next TryRead or ReadAsync; Completion completes once the
    /// channel is closed (Close, <see cref="Writer"/>'s TryComplete, or seen closed by a
    /// read) and everything in it was read.</summary>
    public System.Threading.Channels.ChannelReader<T> Reader => Adapter;

    /// <summary>This channel as a <see cref="System.Threading.Channels.ChannelWriter{T}"/>
    /// (the same object every time). TryWrite on an unbuffered channel succeeds only when a
    /// receiver waits (a rendezvous); TryComplete is Go's close, and an error given to it
    /// completes the reader's Completion with it; WaitToWriteAsync looks for room (a waiting
    /// receiver, or space in the buffer) without sending and, with none, looks again every
    /// millisecond: prefer WriteAsync, which parks until the value is taken.</summary>
    public System.Threading.Channels.ChannelWriter<T> Writer => Adapter.Writer;

    internal ChanReader<T> Adapter
    {
        get
        {
            ChanReader<T>? adapter = Volatile.Read(ref _adapter);
            if (adapter is not null)
                return adapter;
            Interlocked.CompareExchange(ref _adapter, new ChanReader<T>(this), null);
            return _adapter!;
        }
    }

    /// <summary>The engine's snapshot of the queues (sp_host_chan_waiters): 1 when closed,
    /// 0 when open, or an error.</summary>
    internal int Waiters(out int senders, out int receivers)
    {
        int s, r;
        int rc = sp_host_chan_waiters(_handle, &s, &r);
        senders = s;
        receivers = r;
        return rc;
    }
}
