using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>
/// Go's select over any mix of sends and receives: add the cases (each call returns the
/// case's index), then <see cref="WaitAsync()"/> (a goroutine or async code),
/// <see cref="Wait"/> (a plain thread) or <see cref="Poll"/> (the default case: never
/// waits). Among several ready cases the choice is uniformly random (libspindle's select
/// performs it, for every kind of caller). A null channel makes a case that is never ready.
/// Received values are read with <see cref="Value{T}"/> and <see cref="Ok"/>. A Select can
/// be run again with the same cases (reuse avoids allocation), one wait at a time;
/// <see cref="Clear"/> starts a new set.
/// </summary>
/// <example><code>
/// var s = new Select();
/// int got = s.Receive(results), late = s.Receive(Chan.After(TimeSpan.FromSeconds(1)));
/// int i = await s.WaitAsync();
/// if (i == got) Use(s.Value&lt;int&gt;(got));
/// </code></example>
public sealed unsafe class Select
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

    /// <summary>The number of cases.</summary>
    public int Count => _cases.Count;

    /// <summary>Adds a receive case; returns its index.</summary>
    public int Receive<T>(Chan<T>? channel) where T : unmanaged =>
        Add(channel, channel?.RawHandle ?? 0, isSend: false, default(T));

    /// <summary>Adds a send case of value; returns its index.</summary>
    public int Send<T>(Chan<T>? channel, T value) where T : unmanaged =>
        Add(channel, channel?.RawHandle ?? 0, isSend: true, value);

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

    /// <summary>Removes every case.</summary>
    public void Clear()
    {
        _cases.Clear();
        _nativeStale = true;
    }

    internal void RemoveLast()
    {
        _cases.RemoveAt(_cases.Count - 1);
        _nativeStale = true;
    }

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

    /// <summary>Performs a ready case if there is one; -1 otherwise (Go's default case).</summary>
    /// <exception cref="ChannelClosedException">The case chosen is a send on a closed channel.</exception>
    public int Poll()
    {
        sp_case* cases = Native();
        int n = _cases.Count, chosen;
        bool ok = false;
        sp_wakes w;
        int rc = sp_host_select(Engine.Here, cases, n, false, &chosen, null, &w);
        Engine.Finish(w);
        if (rc == SP_WOULD_BLOCK)
            return -1;
        if (rc == SP_OK && !_cases[chosen].IsSend)
            ok = *_okSlot;
        GC.KeepAlive(this);
        return Finish(chosen, rc, ok);
    }

    /// <summary>Blocks the calling thread until a case is performed; returns its index.
    /// For plain threads (refused on a worker thread); in a goroutine use
    /// <see cref="WaitAsync()"/>.</summary>
    /// <exception cref="InvalidOperationException">Called on a worker thread.</exception>
    public int Wait()
    {
        if (Machine.CurrentMachine is not null)
            throw new InvalidOperationException("spindle: Select.Wait would block a worker thread; in a goroutine use WaitAsync");
        sp_case* cases = Native();
        int n = _cases.Count, chosen;
        SelectParty p = PartyFor(n);
        p.ReadyForThread(n);
        sp_wakes w;
        int rc = sp_host_select(null, cases, n, true, &chosen, p.Party, &w);
        Engine.Finish(w);
        bool ok = p.Party->ok != 0;
        if (rc == SP_PARKED)
        {
            rc = sp_party_wait(p.Party);
            chosen = p.Party->chosen;
            ok = p.Party->ok != 0;
        }
        GC.KeepAlive(this);
        return Finish(chosen, rc, ok);
    }

    /// <summary>Waits until a case is performed and returns its index; in a managed
    /// goroutine, waiting parks the goroutine.</summary>
    public ValueTask<int> WaitAsync()
    {
        sp_case* cases = Native();
        int n = _cases.Count, chosen;
        SelectParty p = PartyFor(n);
        p.Begin(this, n);
        sp_wakes w;
        int rc = sp_host_select(p.Here, cases, n, true, &chosen, p.Party, &w);
        Engine.Finish(w);
        return p.Answer(rc, chosen, n);
    }

    /// <summary>Like <see cref="WaitAsync()"/> with one more case, a timer: returns -1 if
    /// nothing was ready within timeout. <see cref="Timeout.InfiniteTimeSpan"/> waits
    /// without one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">timeout is negative (other than
    /// infinite) beyond what nanoseconds in an int64 hold.</exception>
    public ValueTask<int> WaitAsync(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
            return WaitAsync();
        Durations.Check(timeout, nameof(timeout));
        return SelectTimeout.Wait(this, Receive(Chan.After(timeout)));
    }

    /// <summary>A select's party: managed (a ValueTask) or a thread's, one wait at a time.</summary>
    private sealed class SelectParty(int cases) : AsyncParty(cases, 0), IValueTaskSource<int>
    {
        private Select? _owner;

        public void Begin(Select owner, int n)
        {
            Begin(Machine.CurrentMachine, n, owner);
            _owner = owner;
        }

        public void ReadyForThread(int n) => Prepare(SP_PARTY_THREAD, n);

        public ValueTask<int> Answer(int rc, int chosen, int n)
        {
            if (Parked(rc, n == 0 ? WaitReason.SelectNoCases : n == 1 ? WaitReason.ChanReceive : WaitReason.Select))
                return new ValueTask<int>(this, Version);
            Select owner = _owner!;
            bool ok = Party->ok != 0;
            _owner = null;
            G = null;
            Keep = null;
            try
            {
                return ValueTask.FromResult(owner.Finish(chosen, rc, ok));
            }
            catch (Exception e)
            {
                return ValueTask.FromException<int>(e);
            }
        }

        protected override void Completed()
        {
            sp_party_finish(Party); // its other cases leave their queues first
            base.Completed();
        }

        public int GetResult(short token)
        {
            int result = TakeResult(token);
            Select owner = _owner!;
            _owner = null;
            return owner.Finish(Party->chosen, result, Party->ok != 0);
        }
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
