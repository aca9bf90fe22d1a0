using System.Reflection;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

/// <summary>
/// A Go channel of unmanaged values: unbuffered (capacity 0) or buffered, FIFO, with close.
/// One channel connects any mix of managed goroutines (<see cref="SendAsync"/>,
/// <see cref="ReceiveAsync"/>), plain threads (<see cref="Send"/>, <see cref="Receive()"/>,
/// which block the thread) and native goroutines (through <see cref="Handle"/>, an
/// <c>sp_chan</c>). A type with no fields (<c>struct Signal {}</c>) makes a zero-size
/// signal channel, Go's <c>chan struct{}</c>.
/// </summary>
/// <typeparam name="T">The element type; at most 65,535 bytes.</typeparam>
public sealed unsafe class Chan<T> where T : unmanaged
{
    /// <summary>The size an element has in the channel: 0 for a type without fields.</summary>
    internal static readonly int ElemSize =
        typeof(T).GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Length == 0 ? 0 : sizeof(T);

    internal readonly ChannelCore Core;

    /// <summary>Makes a channel with room for capacity values (0: unbuffered).</summary>
    /// <exception cref="ArgumentOutOfRangeException">capacity is negative, or the buffer
    /// would exceed 2 GiB.</exception>
    /// <exception cref="ArgumentException">T is larger than 65,535 bytes.</exception>
    public Chan(int capacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        if (ElemSize > SP_CHAN_MAX_ELEM)
            throw new ArgumentException($"spindle: channel element type {typeof(T).Name} is {ElemSize} bytes; the limit is {SP_CHAN_MAX_ELEM}");
        int err = ChannelCore.TryCreate((ulong)ElemSize, (ulong)capacity, visibleOutside: true, out ChannelCore? core);
        if (err == SP_EINVAL)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"spindle: a buffer of {capacity} x {ElemSize} bytes is too large");
        SpindleError.ThrowIfError(err, "spindle: making a channel");
        Core = core!;
    }

    internal Chan(ChannelCore core) => Core = core;

    /// <summary>The channel a native goroutine made (sp_chan_make, sp_after, ...).</summary>
    /// <exception cref="ObjectDisposedException">The handle is stale or unknown.</exception>
    /// <exception cref="ArgumentException">Its element size is not T's.</exception>
    public static Chan<T> FromHandle(ulong handle)
    {
        ChannelCore core = Registry.Channels.Get(handle)
            ?? throw new ObjectDisposedException("Chan", $"spindle: channel handle 0x{handle:x} is released or unknown");
        if (core.ElemSize != ElemSize)
            throw new ArgumentException($"spindle: channel 0x{handle:x} carries {core.ElemSize}-byte elements, {typeof(T).Name} is {ElemSize}");
        core.VisibleOutside = true;
        return new Chan<T>(core);
    }

    /// <summary>The sp_chan handle native goroutines use for this channel (registered on
    /// first use; <see cref="ReleaseHandle"/> unregisters it).</summary>
    public ulong Handle
    {
        get
        {
            // One registration however many threads ask at once. Not under the channel's
            // lock: releasing takes the table's lock, then the channel's.
            lock (s_registering)
            {
                if (Core.Released)
                    throw new ObjectDisposedException("Chan", "spindle: the channel's handle was released");
                return Core.Handle != 0 ? Core.Handle : Registry.Channels.Add(Core);
            }
        }
    }

    private static readonly Lock s_registering = new();

    /// <summary>Unregisters <see cref="Handle"/> (sp_chan_release): native code using it
    /// later gets SP_ESTALE, and this object's operations throw ObjectDisposedException.
    /// Releasing twice, or a channel that never had a handle, does nothing.</summary>
    /// <exception cref="InvalidOperationException">Someone is parked on the channel.</exception>
    public void ReleaseHandle()
    {
        int err = Core.Handle == 0 ? SP_ESTALE : Registry.Channels.Release(Core.Handle, c => c.TryMarkReleased());
        if (err == SP_ESTATE)
            throw new InvalidOperationException("spindle: goroutines or threads are parked on the channel");
    }

    /// <summary>The capacity (Go's cap).</summary>
    public int Capacity => Core.Capacity;

    /// <summary>Values buffered now (Go's len).</summary>
    public int Count => Core.Length();

    /// <summary>Sends value, blocking the calling thread until a receiver takes it
    /// (unbuffered) or there is room. For plain threads; in a goroutine use
    /// <see cref="SendAsync"/>.</summary>
    /// <exception cref="ChannelClosedException">The channel is or becomes closed.</exception>
    /// <exception cref="InvalidOperationException">Called on a worker thread (it would
    /// block every goroutine there).</exception>
    public void Send(T value)
    {
        ChanStatus status = Core.TrySend((byte*)&value);
        if (status != ChanStatus.WouldBlock)
        {
            ChanErrors.ThrowIfFailed(ToResult(status));
            return;
        }
        ThreadParker p = ThreadParker.Rent(1);
        p.Case(0).Set(Core, isSend: true, (byte*)&value);
        BlockOn(p);
    }

    /// <summary>Receives a value, blocking the calling thread; from a closed, drained
    /// channel the zero value.</summary>
    public T Receive() => Receive(out _);

    /// <summary>Receives a value, blocking the calling thread; ok is false when the channel
    /// is closed and drained (the value is then the zero value).</summary>
    public T Receive(out bool ok)
    {
        T value = default;
        ChanStatus status = Core.TryRecv((byte*)&value, out ok);
        if (status != ChanStatus.WouldBlock)
        {
            ChanErrors.ThrowIfFailed(ToResult(status));
            return value;
        }
        ThreadParker p = ThreadParker.Rent(1);
        p.Case(0).Set(Core, isSend: false, (byte*)&value);
        ok = BlockOn(p);
        return value;
    }

    private static bool BlockOn(ThreadParker p)
    {
        if (!SelectEngine.Run(p, block: true, WaitReason.None))
            p.WaitForWake();
        int result = p.Result;
        bool ok = p.RecvOk;
        p.Free();
        ChanErrors.ThrowIfFailed(result);
        return ok;
    }

    /// <summary>Sends value; in a managed goroutine, waiting parks the goroutine, not its
    /// worker.</summary>
    /// <exception cref="ChannelClosedException">The channel is or becomes closed.</exception>
    public ValueTask SendAsync(T value)
    {
        ChanStatus status = Core.TrySend((byte*)&value);
        if (status != ChanStatus.WouldBlock)
        {
            int result = ToResult(status);
            return result == SP_OK ? ValueTask.CompletedTask : ValueTask.FromException(Failure(result));
        }
        ChanAsyncOp<T> op = ChanAsyncOp<T>.Rent(Core, send: true, value);
        return new ValueTask(op, Park(op));
    }

    /// <summary>Receives a value; the zero value once the channel is closed and drained.</summary>
    public ValueTask<T> ReceiveAsync()
    {
        T value = default;
        ChanStatus status = Core.TryRecv((byte*)&value, out _);
        if (status != ChanStatus.WouldBlock)
        {
            int result = ToResult(status);
            return result == SP_OK ? ValueTask.FromResult(value) : ValueTask.FromException<T>(Failure(result));
        }
        ChanAsyncOp<T> op = ChanAsyncOp<T>.Rent(Core, send: false, default);
        return new ValueTask<T>(op, Park(op));
    }

    /// <summary>Receives a value and whether one was sent (Go's <c>v, ok := &lt;-ch</c>):
    /// Ok is false once the channel is closed and drained.</summary>
    public ValueTask<(T Value, bool Ok)> ReceiveOkAsync()
    {
        T value = default;
        ChanStatus status = Core.TryRecv((byte*)&value, out bool ok);
        if (status != ChanStatus.WouldBlock)
        {
            int result = ToResult(status);
            return result == SP_OK ? ValueTask.FromResult((value, ok)) : ValueTask.FromException<(T, bool)>(Failure(result));
        }
        ChanAsyncOp<T> op = ChanAsyncOp<T>.Rent(Core, send: false, default);
        return new ValueTask<(T, bool)>(op, Park(op));
    }

    private short Park(ChanAsyncOp<T> op)
    {
        short token = op.Version;
        WaitReason reason = op.Case(0).IsSend ? WaitReason.ChanSend : WaitReason.ChanReceive;
        if (SelectEngine.Run(op, block: true, reason))
            op.CompleteNow(); // became ready between the first try and taking the lock
        return token;
    }

    /// <summary>Sends value if that needs no wait (Go's select with a default case).</summary>
    /// <exception cref="ChannelClosedException">The channel is closed.</exception>
    public bool TrySend(T value)
    {
        ChanStatus status = Core.TrySend((byte*)&value);
        if (status == ChanStatus.WouldBlock)
            return false;
        ChanErrors.ThrowIfFailed(ToResult(status));
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
        ChanStatus status = Core.TryRecv((byte*)&v, out ok);
        value = v;
        if (status == ChanStatus.WouldBlock)
            return false;
        ChanErrors.ThrowIfFailed(ToResult(status));
        return true;
    }

    /// <summary>Closes the channel: receivers drain the buffer, then get the zero value
    /// with ok false; parked senders get <see cref="ChannelClosedException"/>.</summary>
    /// <exception cref="ChannelClosedException">It is already closed.</exception>
    public void Close()
    {
        int err = Core.Close();
        if (err == SP_ECLOSED)
            throw new ChannelClosedException("spindle: close of closed channel");
        ChanErrors.ThrowIfFailed(err);
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

    private static int ToResult(ChanStatus status) => status switch
    {
        ChanStatus.Done => SP_OK,
        ChanStatus.Closed => SP_ECLOSED,
        _ => SP_ESTALE,
    };

    private static Exception Failure(int result) => ChanErrors.ToException(result)!;
}
