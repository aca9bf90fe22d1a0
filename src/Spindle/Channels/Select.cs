using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

/// <summary>
/// Go's select over any mix of sends and receives: add the cases (each call returns the
/// case's index), then <see cref="WaitAsync()"/> (a goroutine or async code),
/// <see cref="Wait"/> (a plain thread) or <see cref="Poll"/> (the default case: never
/// waits). Among several ready cases the choice is uniformly random. A null channel makes
/// a case that is never ready. Received values are read with <see cref="Value{T}"/> and
/// <see cref="Ok"/>. A Select can be run again with the same cases (reuse avoids
/// allocation); <see cref="Clear"/> starts a new set.
/// </summary>
/// <example><code>
/// var s = new Select();
/// int got = s.Receive(results), late = s.Receive(Chan.After(TimeSpan.FromSeconds(1)));
/// int i = await s.WaitAsync();
/// if (i == got) Use(s.Value&lt;int&gt;(got));
/// </code></example>
public sealed unsafe class Select
{
    private readonly List<(ChannelCore? Channel, bool IsSend, byte[] Storage, int ElemSize)> _cases = [];
    private bool _lastOk;
    private int _lastChosen = -1;

    /// <summary>The number of cases.</summary>
    public int Count => _cases.Count;

    /// <summary>Adds a receive case; returns its index.</summary>
    public int Receive<T>(Chan<T>? channel) where T : unmanaged =>
        Add(channel?.Core, isSend: false, default(T));

    /// <summary>Adds a send case of value; returns its index.</summary>
    public int Send<T>(Chan<T>? channel, T value) where T : unmanaged =>
        Add(channel?.Core, isSend: true, value);

    private int Add<T>(ChannelCore? core, bool isSend, T value) where T : unmanaged
    {
        if (_cases.Count >= SP_SELECT_MAX_CASES)
            throw new InvalidOperationException($"spindle: a select takes at most {SP_SELECT_MAX_CASES} cases");
        byte[] storage = GC.AllocateArray<byte>(Math.Max(1, sizeof(T)), pinned: true);
        MemoryMarshal.Write(storage, in value);
        _cases.Add((core, isSend, storage, Chan<T>.ElemSize));
        return _cases.Count - 1;
    }

    /// <summary>Removes every case.</summary>
    public void Clear() => _cases.Clear();

    internal void RemoveLast() => _cases.RemoveAt(_cases.Count - 1);

    /// <summary>The value a receive case got, after it was chosen (the zero value when
    /// its channel was closed).</summary>
    public T Value<T>(int caseIndex) where T : unmanaged
    {
        byte[] storage = _cases[caseIndex].Storage;
        if (storage.Length < sizeof(T))
            throw new ArgumentException($"spindle: case {caseIndex} does not hold a {typeof(T).Name}");
        return MemoryMarshal.Read<T>(storage);
    }

    /// <summary>Whether the chosen receive case got a sent value (false: its channel was
    /// closed and drained).</summary>
    public bool Ok(int caseIndex) => caseIndex == _lastChosen && _lastOk;

    private void Fill(Parker p)
    {
        for (int i = 0; i < _cases.Count; i++)
        {
            var c = _cases[i];
            p.Case(i).Set(c.Channel, c.IsSend, (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(c.Storage)));
        }
    }

    private int Finish(int chosen, int result, bool ok)
    {
        _lastChosen = chosen;
        _lastOk = ok;
        if (result == SP_ECLOSED)
            throw new ChannelClosedException($"spindle: select case {chosen}: send on closed channel");
        ChanErrors.ThrowIfFailed(result);
        return chosen;
    }

    /// <summary>Performs a ready case if there is one; -1 otherwise (Go's default case).</summary>
    /// <exception cref="ChannelClosedException">The case chosen is a send on a closed channel.</exception>
    public int Poll()
    {
        ThreadParker p = ObjectPool<ThreadParker>.Rent();
        p.Reset(_cases.Count);
        Fill(p);
        bool done = SelectEngine.Run(p, block: false, WaitReason.Select);
        int chosen = p.Chosen, result = p.Result;
        bool ok = p.RecvOk;
        p.Free();
        return done ? Finish(chosen, result, ok) : -1;
    }

    /// <summary>Blocks the calling thread until a case is performed; returns its index.
    /// For plain threads; in a goroutine use <see cref="WaitAsync()"/>.</summary>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public int Wait()
    {
        ThreadParker p = ThreadParker.Rent(_cases.Count);
        Fill(p);
        if (!SelectEngine.Run(p, block: true, WaitReason.Select))
            p.WaitForWake();
        int chosen = p.Chosen, result = p.Result;
        bool ok = p.RecvOk;
        p.Free();
        return Finish(chosen, result, ok);
    }

    /// <summary>Waits until a case is performed and returns its index; in a managed
    /// goroutine, waiting parks the goroutine.</summary>
    public ValueTask<int> WaitAsync()
    {
        SelectAsyncOp op = SelectAsyncOp.Rent(this, _cases.Count);
        Fill(op);
        short token = op.Version;
        if (SelectEngine.Run(op, block: true, SelectEngine.ReasonFor(op)))
            op.CompleteNow();
        return new ValueTask<int>(op, token);
    }

    /// <summary>Like <see cref="WaitAsync()"/> with one more case, a timer: returns -1 if
    /// nothing was ready within timeout.</summary>
    public ValueTask<int> WaitAsync(TimeSpan timeout) => SelectTimeout.Wait(this, Receive(Chan.After(timeout)));

    private sealed class SelectAsyncOp : AsyncParker, IValueTaskSource<int>
    {
        private Select? _owner;

        public static SelectAsyncOp Rent(Select owner, int cases)
        {
            SelectAsyncOp op = ObjectPool<SelectAsyncOp>.Rent();
            op.Begin(cases);
            op._owner = owner;
            return op;
        }

        public int GetResult(short token)
        {
            Core.GetResult(token);
            Select owner = _owner!;
            int chosen = Chosen, result = Result;
            bool ok = RecvOk;
            _owner = null;
            G = null;
            ObjectPool<SelectAsyncOp>.Return(this);
            return owner.Finish(chosen, result, ok);
        }

        public ValueTaskSourceStatus GetStatus(short token) => Core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token,
            ValueTaskSourceOnCompletedFlags flags) => Core.OnCompleted(continuation, state, token, flags);
    }
}

/// <summary>The await of <see cref="Select.WaitAsync(TimeSpan)"/> (async code cannot live
/// in Select's unsafe context).</summary>
internal static class SelectTimeout
{
    public static async ValueTask<int> Wait(Select s, int timer)
    {
        try
        {
            int chosen = await s.WaitAsync();
            return chosen == timer ? -1 : chosen;
        }
        finally
        {
            s.RemoveLast();
        }
    }
}
