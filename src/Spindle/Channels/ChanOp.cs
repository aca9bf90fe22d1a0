using System.Threading.Tasks.Sources;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>One async send or receive on a <see cref="Chan{T}"/>: a pooled party whose
/// native memory holds the element, so that a counterpart copies straight into or out of it
/// while the caller waits.</summary>
internal sealed unsafe class ChanOp<T> : AsyncParty, IValueTaskSource, IValueTaskSource<T>, IValueTaskSource<(T, bool)>
    where T : unmanaged
{
    public ChanOp() : base(1, sizeof(T)) { }

    /// <summary>The element: the value to send, or where a receive puts it.</summary>
    public T* Elem => (T*)Extra;

    public static ChanOp<T> Rent(Chan<T> channel, T value)
    {
        Machine? worker = Machine.CurrentMachine;
        ChanOp<T> op = PartyPool<ChanOp<T>>.Rent(worker);
        op.Begin(worker, 1, channel);
        *op.Elem = value;
        return op;
    }

    private void Release()
    {
        G = null;
        Keep = null;
        PartyPool<ChanOp<T>>.Return(this, Worker);
    }

    public ValueTask AnswerSend(int rc)
    {
        if (Parked(rc, WaitReason.ChanSend))
            return new ValueTask(this, Version);
        Release();
        return rc == SP_OK ? ValueTask.CompletedTask : ValueTask.FromException(SpindleError.ForChannel(rc));
    }

    public ValueTask<T> AnswerReceive(int rc)
    {
        if (Parked(rc, WaitReason.ChanReceive))
            return new ValueTask<T>(this, Version);
        T value = *Elem;
        Release();
        return rc == SP_OK ? ValueTask.FromResult(value) : ValueTask.FromException<T>(SpindleError.ForChannel(rc));
    }

    public ValueTask<(T, bool)> AnswerReceiveOk(int rc, bool ok)
    {
        if (Parked(rc, WaitReason.ChanReceive))
            return new ValueTask<(T, bool)>(this, Version);
        T value = *Elem;
        Release();
        return rc == SP_OK ? ValueTask.FromResult((value, ok)) : ValueTask.FromException<(T, bool)>(SpindleError.ForChannel(rc));
    }

    /// <summary>Reads the outcome and returns the op to its pool (a ValueTask is awaited once).</summary>
    private T Take(short token, out bool ok)
    {
        int result = TakeResult(token);
        T value = *Elem;
        ok = Party->ok != 0;
        PartyPool<ChanOp<T>>.Return(this, Worker);
        SpindleError.ThrowIfChannelFailed(result);
        return value;
    }

    void IValueTaskSource.GetResult(short token) => Take(token, out _);

    T IValueTaskSource<T>.GetResult(short token) => Take(token, out _);

    (T, bool) IValueTaskSource<(T, bool)>.GetResult(short token)
    {
        T value = Take(token, out bool ok);
        return (value, ok);
    }
}
