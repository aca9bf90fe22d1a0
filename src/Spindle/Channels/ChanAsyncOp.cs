using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Spindle;

/// <summary>One async send or receive on a <see cref="Chan{T}"/>: a pooled parker with a
/// buffer for the element that outlives the caller's frame.</summary>
internal sealed unsafe class ChanAsyncOp<T> : AsyncParker, IValueTaskSource, IValueTaskSource<T>, IValueTaskSource<(T, bool)>
    where T : unmanaged
{
    private readonly T* _value = (T*)NativeMemory.AllocZeroed((nuint)sizeof(T));

    ~ChanAsyncOp() => NativeMemory.Free(_value);

    public static ChanAsyncOp<T> Rent(ChannelCore ch, bool send, T value)
    {
        ChanAsyncOp<T> op = ObjectPool<ChanAsyncOp<T>>.Rent();
        op.Begin(1);
        *op._value = value;
        op.Case(0).Set(ch, send, (byte*)op._value);
        return op;
    }

    /// <summary>Reads the outcome and returns the op to its pool (a ValueTask is awaited once).</summary>
    private T Take(short token, out bool ok)
    {
        Core.GetResult(token);
        T value = *_value;
        int result = Result;
        ok = RecvOk;
        G = null;
        ObjectPool<ChanAsyncOp<T>>.Return(this);
        ChanErrors.ThrowIfFailed(result);
        return value;
    }

    void IValueTaskSource.GetResult(short token) => Take(token, out _);

    T IValueTaskSource<T>.GetResult(short token) => Take(token, out _);

    (T, bool) IValueTaskSource<(T, bool)>.GetResult(short token)
    {
        T value = Take(token, out bool ok);
        return (value, ok);
    }

    public ValueTaskSourceStatus GetStatus(short token) => Core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => Core.OnCompleted(continuation, state, token, flags);
}
