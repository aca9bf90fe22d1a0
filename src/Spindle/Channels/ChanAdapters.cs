using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;
using BclChannelClosedException = System.Threading.Channels.ChannelClosedException;

namespace Spindle;

/// <summary>
/// <see cref="Chan{T}.Reader"/>: a Chan&lt;T&gt; as System.Threading.Channels' reader, over the
/// same channel, so that code written against the BCL abstractions reads it. Where the two
/// differ it keeps Go's semantics:
/// <list type="bullet">
/// <item>The engine cannot wait for a value without taking it (an unbuffered channel's value
/// exists only in its sender until a receiver takes it). WaitToReadAsync and TryPeek
/// therefore receive the value (a sender's send completes then) and keep it, in arrival
/// order, for this reader's next TryRead or ReadAsync; <see cref="Count"/> includes what it
/// keeps.</item>
/// <item>Completion completes once the channel is known to be closed (Close, the writer's
/// TryComplete, or a read that found it closed: a close by native code is seen at the next
/// read) and nothing is left in it, nor kept here.</item>
/// </list>
/// The rest follows the BCL contract: ReadAsync on a closed, drained channel throws
/// ChannelClosedException (with the completion error inside), WaitToReadAsync answers false
/// (or throws the completion error), a token already cancelled gives a cancelled ValueTask.
/// </summary>
internal sealed class ChanReader<T> : ChannelReader<T> where T : unmanaged
{
    private readonly Chan<T> _chan;
    /// <summary>Values WaitToReadAsync and TryPeek received ahead of a read.</summary>
    private readonly ConcurrentQueue<T> _taken = new();
    /// <summary>Receives under way whose value goes to _taken: Completion waits for them.</summary>
    private int _taking;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _closeLock = new();
    private volatile bool _closed;
    private Exception? _error;

    public ChanReader(Chan<T> chan)
    {
        _chan = chan;
        Writer = new ChanWriter<T>(chan, this);
    }

    public ChanWriter<T> Writer { get; }

    /// <summary>What the writer completed the channel with (null: no error, or not completed).</summary>
    public Exception? Error => Volatile.Read(ref _error);

    public override Task Completion => _completion.Task;

    public override bool CanCount => true;

    public override int Count => _chan.Count + _taken.Count;

    public override bool CanPeek => true;

    public override bool TryRead([MaybeNullWhen(false)] out T item)
    {
        if (!_taken.TryDequeue(out item))
        {
            if (!_chan.TryReceive(out item, out bool ok))
                return false;
            if (!ok)
            {
                SawClosed();
                return false;
            }
        }
        AfterRead();
        return true;
    }

    public override bool TryPeek([MaybeNullWhen(false)] out T item)
    {
        if (_taken.TryPeek(out item))
            return true;
        Interlocked.Increment(ref _taking);
        bool got, ok = false;
        try
        {
            got = _chan.TryReceive(out item, out ok);
            if (got && ok)
                _taken.Enqueue(item);
        }
        finally
        {
            EndTaking();
        }
        if (got && !ok)
            SawClosed();
        return got && ok;
    }

    public override ValueTask<T> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<T>(cancellationToken);
        if (_taken.TryDequeue(out T item))
        {
            AfterRead();
            return new ValueTask<T>(item);
        }
        return _chan.ReceiveCore(this, cancellationToken);
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<bool>(cancellationToken);
        return _taken.IsEmpty ? TakeAhead(cancellationToken) : new ValueTask<bool>(true);
    }

    /// <summary>Receives a value into _taken (at once when one is ready: the ValueTask is
    /// then already complete).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TakeAhead(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _taking);
        bool ok;
        try
        {
            (T item, ok) = await _chan.ReceiveOkAsync(cancellationToken);
            if (ok)
                _taken.Enqueue(item);
        }
        finally
        {
            EndTaking();
        }
        if (ok)
            return true;
        SawClosed();
        if (Error is { } error)
            ExceptionDispatchInfo.Throw(error);
        return false;
    }

    /// <summary>A receive of Chan's own ended with ok: null, or (closed) what ReadAsync throws.</summary>
    public Exception? Received(bool ok)
    {
        if (ok)
        {
            AfterRead();
            return null;
        }
        SawClosed();
        return ClosedException();
    }

    /// <summary>What an operation on the completed channel throws (the BCL's rule: the
    /// completion error inside a ChannelClosedException; a cancellation as itself).</summary>
    public Exception ClosedException() => Error switch
    {
        OperationCanceledException cancelled => cancelled,
        { } error => new BclChannelClosedException(error),
        null => new BclChannelClosedException(),
    };

    /// <summary>Go's close with an error for Completion (the writer's TryComplete, or
    /// Chan.Close with none): SP_OK, SP_ECLOSED when it was closed already, or an error.</summary>
    public int Close(Exception? error)
    {
        int err;
        lock (_closeLock)
        {
            if (_closed)
                return SP_ECLOSED;
            Volatile.Write(ref _error, error); // before the close: the readers it wakes read it
            err = _chan.CloseCore();
            if (err != SP_OK)
                Volatile.Write(ref _error, null);
            if (err is SP_OK or SP_ECLOSED)
                _closed = true;
        }
        if (_closed)
            TryFinish();
        return err;
    }

    private void AfterRead()
    {
        if (_closed)
            TryFinish();
    }

    private void SawClosed()
    {
        _closed = true;
        TryFinish();
    }

    /// <summary>Completes Completion once the closed channel holds nothing and nothing is
    /// kept here (or on its way here).</summary>
    /// <summary>A take ahead ended (with a value, without one, or cancelled): a close that
    /// came meanwhile left Completion to it.</summary>
    private void EndTaking()
    {
        if (Interlocked.Decrement(ref _taking) == 0 && _closed)
            TryFinish();
    }

    private void TryFinish()
    {
        if (Volatile.Read(ref _taking) != 0 || !_taken.IsEmpty || _chan.Buffered > 0)
            return;
        switch (Error)
        {
            case OperationCanceledException cancelled:
                _completion.TrySetCanceled(cancelled.CancellationToken);
                break;
            case { } error:
                _completion.TrySetException(error);
                break;
            default:
                _completion.TrySetResult();
                break;
        }
    }
}

/// <summary>
/// <see cref="Chan{T}.Writer"/>: a Chan&lt;T&gt; as System.Threading.Channels' writer. Where
/// the two differ it keeps Go's semantics: TryWrite on an unbuffered channel succeeds only
/// when a receiver waits (a rendezvous), and on a full buffered one fails; TryComplete is
/// Go's close (parked senders fail with ChannelClosedException, values in the buffer stay
/// readable); WaitToWriteAsync answers at once when there is room (a waiting receiver, or
/// space in the buffer) and otherwise looks again every <see cref="PollInterval"/>: the
/// engine has no wait for room that does not send (Go has none either: it sends, or selects
/// on a send). WriteAsync parks until the value is taken.
/// </summary>
internal sealed class ChanWriter<T>(Chan<T> chan, ChanReader<T> reader) : ChannelWriter<T> where T : unmanaged
{
    /// <summary>How often WaitToWriteAsync looks for room on a channel that has none.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(1);

    public override bool TryComplete(Exception? error = null)
    {
        int err = reader.Close(error);
        if (err == SP_ECLOSED)
            return false;
        SpindleError.ThrowIfChannelFailed(err);
        return true;
    }

    public override bool TryWrite(T item)
    {
        int rc = chan.TrySendCore(item);
        if (rc is SP_WOULD_BLOCK or SP_ECLOSED)
            return false;
        SpindleError.ThrowIfChannelFailed(rc);
        return true;
    }

    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken = default) =>
        chan.SendCore(item, reader, cancellationToken);

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<bool>(cancellationToken);
        try
        {
            return Room() switch
            {
                Open => new ValueTask<bool>(true),
                Closed => reader.Error is { } error ? ValueTask.FromException<bool>(error) : new ValueTask<bool>(false),
                _ => WaitForRoom(cancellationToken),
            };
        }
        catch (Exception e)
        {
            return ValueTask.FromException<bool>(e);
        }
    }

    private const int Full = 0, Open = 1, Closed = 2;

    /// <summary>Whether a send would proceed now: a receiver waits or the buffer has room.</summary>
    /// <exception cref="ObjectDisposedException">The channel was released.</exception>
    private int Room()
    {
        int closed = chan.Waiters(out _, out int receivers);
        SpindleError.ThrowIfChannelFailed(closed < 0 ? closed : SP_OK);
        if (closed == 1)
            return Closed;
        return receivers > 0 || chan.Buffered < chan.Capacity ? Open : Full;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitForRoom(CancellationToken cancellationToken)
    {
        while (true)
        {
            await Runtime.Sleep(PollInterval, cancellationToken);
            switch (Room())
            {
                case Open:
                    return true;
                case Closed:
                    if (reader.Error is { } error)
                        ExceptionDispatchInfo.Throw(error);
                    return false;
            }
        }
    }
}
