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
    /// <summary>The BCL adapters' operation: a closed channel ends it as ChannelReader and
    /// ChannelWriter say (null for Chan's own).</summary>
    private ChanReader<T>? _adapter;

    public ChanOp() : base(1, sizeof(T)) { }

    /// <summary>The element: the value to send, or where a receive puts it.</summary>
    public T* Elem => (T*)Extra;

    public static ChanOp<T> Rent(Chan<T> channel, T value, ChanReader<T>? adapter)
    {
        Machine? worker = Machine.CurrentMachine;
        ChanOp<T> op = PartyPool<ChanOp<T>>.Rent(worker);
        op.Begin(worker, 1, channel);
        op._adapter = adapter;
        *op.Elem = value;
        return op;
    }

    /// <summary>Returns the op to its pool; the adapter it served, if any.</summary>
    private ChanReader<T>? Release()
    {
        ChanReader<T>? adapter = _adapter;
        _adapter = null;
        G = null;
        Keep = null;
        PartyPool<ChanOp<T>>.Return(this, Worker);
        return adapter;
    }

    private static Exception Failure(int result, ChanReader<T>? adapter) =>
        result == SP_ECLOSED && adapter is not null ? adapter.ClosedException() : SpindleError.ForChannel(result);

    public ValueTask AnswerSend(int rc, CancellationToken token)
    {
        if (Parked(rc, WaitReason.ChanSend, token))
            return new ValueTask(this, Version);
        ChanReader<T>? adapter = Release();
        return rc == SP_OK ? ValueTask.CompletedTask : ValueTask.FromException(Failure(rc, adapter));
    }

    public ValueTask<T> AnswerReceive(int rc, bool ok, CancellationToken token)
    {
        if (Parked(rc, WaitReason.ChanReceive, token))
            return new ValueTask<T>(this, Version);
        T value = *Elem;
        ChanReader<T>? adapter = Release();
        if (rc != SP_OK)
            return ValueTask.FromException<T>(Failure(rc, adapter));
        Exception? closed = adapter?.Received(ok);
        return closed is null ? ValueTask.FromResult(value) : ValueTask.FromException<T>(closed);
    }

    public ValueTask<(T, bool)> AnswerReceiveOk(int rc, bool ok, CancellationToken token)
    {
        if (Parked(rc, WaitReason.ChanReceive, token))
            return new ValueTask<(T, bool)>(this, Version);
        T value = *Elem;
        Release();
        return rc == SP_OK ? ValueTask.FromResult((value, ok)) : ValueTask.FromException<(T, bool)>(SpindleError.ForChannel(rc));
    }

    /// <summary>Reads the outcome and returns the op to its pool (a ValueTask is awaited
    /// once); throws what the operation ended with.</summary>
    private T Take(short token, out bool ok, out ChanReader<T>? adapter)
    {
        Outcome outcome = TakeResult(token);
        T value = *Elem;
        ok = Party->ok != 0;
        adapter = Release();
        outcome.ThrowIfCancelled();
        if (outcome.Result != SP_OK)
            throw Failure(outcome.Result, adapter);
        return value;
    }

    void IValueTaskSource.GetResult(short token) => Take(token, out _, out _);

    T IValueTaskSource<T>.GetResult(short token)
    {
        T value = Take(token, out bool ok, out ChanReader<T>? adapter);
        Exception? closed = adapter?.Received(ok);
        return closed is null ? value : throw closed;
    }

    (T, bool) IValueTaskSource<(T, bool)>.GetResult(short token)
    {
        T value = Take(token, out bool ok, out _);
        return (value, ok);
    }
}
