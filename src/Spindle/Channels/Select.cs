using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>
/// Go's select over any mix of sends and receives: add the cases (each call returns the
/// case's index), then <see cref="WaitAsync(CancellationToken)"/> (a goroutine or async
/// code), <see cref="Wait"/> (a plain thread) or <see cref="Poll"/> (the default case: never
/// waits). Among several ready cases the choice is uniformly random (libspindle's select
/// performs it, for every kind of caller). A null channel makes a case that is never ready.
/// A <see cref="CancellationToken"/> can be a case too (<see cref="Receive(CancellationToken)"/>,
/// Go's <c>case &lt;-ctx.Done():</c>). Received values are read with <see cref="Value{T}"/>
/// and <see cref="Ok"/>. A Select can be run again with the same cases (reuse avoids
/// allocation), one wait at a time; <see cref="Clear"/> starts a new set.
/// </summary>
/// <example><code>
/// var s = new Select();
/// int got = s.Receive(results), done = s.Receive(cancellationToken);
/// int i = await s.WaitAsync();
/// if (i == got) Use(s.Value&lt;int&gt;(got));
/// </code></example>
public sealed unsafe class Select : IWaitedOn
{
    /// <summary>A case: its channel (kept alive while the select runs), the pinned bytes
    /// of its element, and its direction.</summary>
    private readonly List<(object? Channel, ulong Handle, bool IsSend, byte[] Storage)> _cases = [];
    private sp_case* _native;      // the cases as libspindle reads them
    private bool* _okSlot;         // where a receive performed at once says ok (one for all)
    private int _nativeRoom;
    private bool _nativeStale = true;
    private SelectParty? _party;
    private bool _lastOk;
    private int _lastChosen = -1;
    /// <summary>The token cases, in the order they were added. Each is a nil-channel case
    /// for the engine (never ready there): the token's callback cancels the parked party
    /// and the wait answers with that case's index.</summary>
    private readonly List<TokenCase> _tokens = [];

    /// <summary>The number of cases (<c>len(cases)</c> of Go's reflect.Select, whose case
    /// list a Select is).</summary>
    public int Count => _cases.Count;

    /// <summary>A one-case select waits on that case's channel; one of several, on none.</summary>
    ulong IWaitedOn.WaitedOnHandle => _cases.Count == 1 ? _cases[0].Handle : 0;

    /// <summary>Adds a receive case (Go's <c>case v, ok := &lt;-ch:</c>); returns its index.
    /// A null channel makes a case that is never ready (Go's nil channel).</summary>
    /// <exception cref="InvalidOperationException">The select has the most cases it takes.</exception>
    public int Receive<T>(Chan<T>? channel) where T : unmanaged =>
        Add(channel, channel?.RawHandle ?? 0, isSend: false, default(T));

    /// <summary>Adds a send case of value (Go's <c>case ch &lt;- v:</c>); returns its index.
    /// A null channel makes a case that is never ready.</summary>
    /// <exception cref="InvalidOperationException">The select has the most cases it takes.</exception>
    public int Send<T>(Chan<T>? channel, T value) where T : unmanaged =>
        Add(channel, channel?.RawHandle ?? 0, isSend: true, value);

    /// <summary>Adds a case that is ready once token is cancelled (Go's <c>case
    /// &lt;-ctx.Done():</c>); returns its index. A wait that it ends performs no other case:
    /// the waiter leaves every channel's queue. A token case already cancelled when a wait
    /// or <see cref="Poll"/> starts is chosen at once, before any channel case is tried (the
    /// first such case added; Go would choose at random among the ready cases, Spindle lets
    /// a cancellation win, so that a cancelled wait never takes a value). Its
    /// <see cref="Ok"/> is false. A token that can never be cancelled makes a case that is
    /// never ready.</summary>
    /// <exception cref="InvalidOperationException">The select has the most cases it takes.</exception>
    public int Receive(CancellationToken token)
    {
        int index = Add<byte>(null, 0, isSend: false, 0);
        _tokens.Add(new TokenCase(index, token));
        return index;
    }

    private int Add<T>(object? channel, ulong handle, bool isSend, T value) where T : unmanaged
    {
        if (_cases.Count >= SP_SELECT_MAX_CASES)
            throw new InvalidOperationException($"spindle: a select takes at most {SP_SELECT_MAX_CASES} cases");
        byte[] storage = GC.AllocateArray<byte>(Math.Max(1, sizeof(T)), pinned: true);
        MemoryMarshal.Write(storage, in value);
        _cases.Add((channel, handle, isSend, storage));
        _nativeStale = true;
        return _cases.Count - 1;
    }

    /// <summary>Removes every case (a new case list for Go's reflect.Select).</summary>
    public void Clear()
    {
        _cases.Clear();
        _tokens.Clear();
        _nativeStale = true;
    }

    internal void RemoveLast()
    {
        _cases.RemoveAt(_cases.Count - 1);
        if (_tokens.Count > 0 && _tokens[^1].Index == _cases.Count)
            _tokens.RemoveAt(_tokens.Count - 1);
        _nativeStale = true;
    }

    /// <summary>The first token case whose token is cancelled, or -1.</summary>
    private int FirstCancelled()
    {
        foreach (TokenCase t in _tokens)
            if (t.Token.IsCancellationRequested)
                return t.Index;
        return -1;
    }

    /// <summary>The cases the engine is given: at least one (a nil case for an empty
    /// select), so that a party parked on no case is still armed, and can be cancelled.</summary>
    private int NativeCount => Math.Max(_cases.Count, 1);

    /// <summary>The value a receive case got, after it was chosen (the zero value when
    /// its channel was closed): Go's <c>v</c> in <c>case v := &lt;-ch:</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such case.</exception>
    /// <exception cref="ArgumentException">The case does not hold a T.</exception>
    public T Value<T>(int caseIndex) where T : unmanaged
    {
        byte[] storage = _cases[caseIndex].Storage;
        if (storage.Length < sizeof(T))
            throw new ArgumentException($"spindle: case {caseIndex} does not hold a {typeof(T).Name}");
        return MemoryMarshal.Read<T>(storage);
    }

    /// <summary>Whether the chosen receive case got a sent value (Go's <c>ok</c> in <c>case
    /// v, ok := &lt;-ch:</c>; false: its channel was closed and drained, or it is a token
    /// case).</summary>
    public bool Ok(int caseIndex) => caseIndex == _lastChosen && _lastOk;

    /// <summary>The cases as libspindle reads them, rebuilt when they changed.</summary>
    private sp_case* Native()
    {
        if (!_nativeStale)
            return _native;
        int n = _cases.Count;
        if (n > _nativeRoom || _native == null)
        {
            NativeMemory.Free(_native);
            _nativeRoom = Math.Max(Math.Max(n, 1), 2 * _nativeRoom);
            // The cases, then the ok slot after them.
            _native = (sp_case*)NativeMemory.AllocZeroed((nuint)(_nativeRoom * sizeof(sp_case) + sizeof(long)));
            _okSlot = (bool*)(_native + _nativeRoom);
        }
        for (int i = 0; i < n; i++)
        {
            var c = _cases[i];
            _native[i] = new sp_case
            {
                ch = c.Handle,
                dir = c.IsSend ? SP_SEND : SP_RECV,
                elem = Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(c.Storage)),
                ok = c.IsSend ? null : _okSlot,
            };
        }
        if (n == 0)
            _native[0] = new sp_case { ch = 0, dir = SP_RECV };
        _nativeStale = false;
        return _native;
    }

    /// <summary>Frees the cases' native copy.</summary>
    ~Select() => NativeMemory.Free(_native);

    private SelectParty PartyFor(int cases)
    {
        if (_party is null || _party.Cases < cases)
        {
            _party?.Destroy();
            _party = new SelectParty(Math.Max(cases, 1));
        }
        return _party;
    }

    private int Finish(int chosen, int result, bool ok)
    {
        _lastChosen = chosen;
        _lastOk = ok;
        if (result == SP_ECLOSED)
            throw new ChannelClosedException($"spindle: select case {chosen}: send on closed channel");
        SpindleError.ThrowIfChannelFailed(result);
        return chosen;
    }

    /// <summary>Performs a ready case if there is one; -1 otherwise (Go's <c>default:</c>
    /// case). A token case already cancelled is chosen first.</summary>
    /// <exception cref="ChannelClosedException">The case chosen is a send on a closed channel.</exception>
    /// <exception cref="ObjectDisposedException">A case's channel was released.</exception>
    public int Poll()
    {
        int cancelled = FirstCancelled();
        if (cancelled >= 0)
            return Finish(cancelled, SP_OK, false);
        sp_case* cases = Native();
        int chosen;
        bool ok = false;
        sp_wakes w;
        int rc = sp_host_select(Engine.Here, cases, NativeCount, false, &chosen, null, &w);
        Engine.Finish(w);
        if (rc == SP_WOULD_BLOCK)
            return -1;
        if (rc == SP_OK && !_cases[chosen].IsSend)
            ok = *_okSlot;
        GC.KeepAlive(this);
        return Finish(chosen, rc, ok);
    }

    /// <summary>Blocks the calling thread until a case is performed; returns its index (Go's
    /// <c>select</c>). For plain threads (refused on a worker thread); in a goroutine use
    /// <see cref="WaitAsync(CancellationToken)"/>.</summary>
    /// <param name="cancellationToken">Ends the wait: no case is performed, and the waiter
    /// leaves every queue. A token already cancelled performs none even when one is
    /// ready.</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before a
    /// case was performed.</exception>
    /// <exception cref="ChannelClosedException">The case chosen is a send on a closed channel.</exception>
    /// <exception cref="ObjectDisposedException">A case's channel was released.</exception>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public int Wait(CancellationToken cancellationToken = default)
    {
        if (Machine.CurrentMachine is not null)
            throw new InvalidOperationException("spindle: Select.Wait would block a worker thread; in a goroutine use WaitAsync");
        cancellationToken.ThrowIfCancellationRequested();
        int cancelled = FirstCancelled();
        if (cancelled >= 0)
            return Finish(cancelled, SP_OK, false);
        sp_case* cases = Native();
        int n = NativeCount, chosen;
        SelectParty p = PartyFor(n);
        p.ReadyForThread(this, n);
        sp_wakes w;
        int rc = sp_host_select(null, cases, n, true, &chosen, p.Party, &w);
        Engine.Finish(w);
        Outcome outcome = p.WaitThread(rc, cancellationToken);
        if (rc == SP_PARKED)
            chosen = p.Party->chosen;
        bool ok = p.Party->ok != 0;
        GC.KeepAlive(this);
        return p.End(outcome, chosen, ok);
    }

    /// <summary>Waits until a case is performed and returns its index (Go's
    /// <c>select</c>); in a managed goroutine, waiting parks the goroutine.</summary>
    /// <param name="cancellationToken">Ends the wait: no case is performed, and the waiter
    /// leaves every queue. A token already cancelled performs none, and nothing parks, even
    /// when a case is ready (a token case, <see cref="Receive(CancellationToken)"/>, is the
    /// way to have the cancellation as a case instead).</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before a
    /// case was performed (the exception carries the token).</exception>
    /// <exception cref="ChannelClosedException">The case chosen is a send on a closed channel.</exception>
    /// <exception cref="ObjectDisposedException">A case's channel was released.</exception>
    public ValueTask<int> WaitAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<int>(cancellationToken);
        int cancelled = FirstCancelled();
        if (cancelled >= 0)
            return ValueTask.FromResult(Finish(cancelled, SP_OK, false));
        sp_case* cases = Native();
        int n = NativeCount, chosen;
        SelectParty p = PartyFor(n);
        p.Begin(this, n);
        sp_wakes w;
        int rc = sp_host_select(p.Here, cases, n, true, &chosen, p.Party, &w);
        Engine.Finish(w);
        return p.Answer(rc, chosen, _cases.Count, cancellationToken);
    }

    /// <summary>Like <see cref="WaitAsync(CancellationToken)"/> with one more case, a timer
    /// (Go's <c>case &lt;-time.After(timeout):</c>): returns -1 if nothing was ready within
    /// timeout. <see cref="Timeout.InfiniteTimeSpan"/> waits without one.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Ends the wait as for
    /// <see cref="WaitAsync(CancellationToken)"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">timeout is beyond what nanoseconds in
    /// an int64 hold.</exception>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled before a
    /// case was performed.</exception>
    public ValueTask<int> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
            return WaitAsync(cancellationToken);
        Durations.Check(timeout, nameof(timeout));
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<int>(cancellationToken);
        return SelectTimeout.Wait(this, Receive(Chan.After(timeout)), cancellationToken);
    }

    /// <summary>A token case: what its callback needs to cancel the parked party.</summary>
    private sealed class TokenCase(int index, CancellationToken token)
    {
        public readonly int Index = index;
        public readonly CancellationToken Token = token;
        public SelectParty? Party;
        public CancellationTokenRegistration Registration;

        public static readonly Action<object?> Fire = static c =>
        {
            var t = (TokenCase)c!;
            t.Party?.Cancel(t.Index);
        };
    }

    /// <summary>A select's party: managed (a ValueTask) or a thread's, one wait at a time.</summary>
    private sealed class SelectParty(int cases) : AsyncParty(cases, 0), IValueTaskSource<int>
    {
        private Select? _owner;
        /// <summary>The wait is a plain thread's (Wait), not a ValueTask's.</summary>
        private bool _threadWait;

        public void Begin(Select owner, int n)
        {
            Begin(Machine.CurrentMachine, n, owner);
            _owner = owner;
            _threadWait = false;
        }

        public void ReadyForThread(Select owner, int n)
        {
            Prepare(SP_PARTY_THREAD, n);
            _owner = owner;
            _threadWait = true;
        }

        /// <summary>A thread's wait has no ValueTask to complete: sp_party_cancel woke the
        /// thread, which reads the outcome itself.</summary>
        protected override void Cancelled()
        {
            if (!_threadWait)
                base.Cancelled();
        }

        public new Outcome WaitThread(int rc, CancellationToken token) => base.WaitThread(rc, token);

        protected override bool WatchCases()
        {
            List<TokenCase> tokens = _owner!._tokens;
            foreach (TokenCase t in tokens)
            {
                t.Party = this;
                if (t.Token.CanBeCanceled)
                    t.Registration = t.Token.UnsafeRegister(TokenCase.Fire, t);
            }
            return tokens.Count > 0;
        }

        protected override int CancelledCase()
        {
            int index = _owner!.FirstCancelled();
            return index >= 0 ? index : NotCancelled;
        }

        protected override void EndCaseWatch()
        {
            foreach (TokenCase t in _owner!._tokens)
            {
                t.Registration.Dispose();
                t.Registration = default;
                t.Party = null;
            }
        }

        public ValueTask<int> Answer(int rc, int chosen, int n, CancellationToken token)
        {
            if (Parked(rc, n == 0 ? WaitReason.SelectNoCases : n == 1 ? WaitReason.ChanReceive : WaitReason.Select, token))
                return new ValueTask<int>(this, Version);
            bool ok = Party->ok != 0;
            G = null;
            Keep = null;
            try
            {
                return ValueTask.FromResult(End(new Outcome(rc, NotCancelled, token), chosen, ok));
            }
            catch (Exception e)
            {
                return ValueTask.FromException<int>(e);
            }
        }

        /// <summary>The wait's answer: a token case's index, the case performed, or what it
        /// failed with.</summary>
        public int End(in Outcome outcome, int chosen, bool ok)
        {
            Select owner = _owner!;
            _owner = null;
            outcome.ThrowIfCancelled();
            return outcome.TokenCase >= 0 ? owner.Finish(outcome.TokenCase, SP_OK, false) : owner.Finish(chosen, outcome.Result, ok);
        }

        protected override void Completed()
        {
            sp_party_finish(Party); // its other cases leave their queues first
            base.Completed();
        }

        public int GetResult(short token)
        {
            Outcome outcome = TakeResult(token);
            return End(outcome, Party->chosen, Party->ok != 0);
        }
    }
}

/// <summary>The await of <see cref="Select.WaitAsync(TimeSpan, CancellationToken)"/> (async
/// code cannot live in Select's unsafe context).</summary>
internal static class SelectTimeout
{
    public static async ValueTask<int> Wait(Select s, int timer, CancellationToken cancellationToken)
    {
        try
        {
            int chosen = await s.WaitAsync(cancellationToken);
            return chosen == timer ? -1 : chosen;
        }
        finally
        {
            s.RemoveLast();
        }
    }
}
