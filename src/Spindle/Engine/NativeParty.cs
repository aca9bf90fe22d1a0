using System.Runtime.InteropServices;
using Spindle.Interop;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>
/// A wait the managed runtime owns in the native engine (spindle_host.h's parties): a managed
/// goroutine's or async code's channel operation, select, lock, wait group wait or sleep, or
/// a plain thread's. Its native memory holds the sp_party, one waiter per case and the bytes
/// the operation moves (an element, a timer), so that nothing a counterpart copies to or from
/// can move while it waits. The party's token names this object (its slot in a table of
/// parties), so the engine's list of completed parties leads back here. Objects are pooled,
/// memory and token included: an operation allocates nothing in steady state.
/// </summary>
internal abstract unsafe class NativeParty
{
    public readonly sp_party* Party;
    public readonly sp_waiter* Waiters;
    public readonly int Cases;
    /// <summary>Room for what the operation moves or needs: an element, a timer.</summary>
    public readonly byte* Extra;
    /// <summary>Its token: its slot in <see cref="s_parties"/>, plus one.</summary>
    private int _token;

    // Every party, by token: the engine's list of completed parties leads back here with
    // one array load (a GCHandle's lookup and the cast after it cost more, per operation).
    private static Slot[] s_parties = new Slot[64];
    private static readonly Stack<int> s_freeTokens = new();
    private static int s_tokensUsed;
    private static readonly Lock s_tokensLock = new();

    /// <summary>An array element of a struct type: no covariance check on a store.</summary>
    private struct Slot
    {
        public NativeParty? Party;
    }

    protected NativeParty(int cases, int extraBytes)
    {
        Cases = cases;
        nuint bytes = (nuint)(sizeof(sp_party) + cases * sizeof(sp_waiter) + Math.Max(extraBytes, 8));
        Party = (sp_party*)NativeMemory.AlignedAlloc(bytes, 16);
        new Span<byte>(Party, (int)bytes).Clear();
        Waiters = (sp_waiter*)(Party + 1);
        Extra = (byte*)(Waiters + cases);
        lock (s_tokensLock)
        {
            int slot = s_freeTokens.Count > 0 ? s_freeTokens.Pop() : s_tokensUsed++;
            if (slot >= s_parties.Length)
            {
                var grown = new Slot[2 * s_parties.Length];
                Array.Copy(s_parties, grown, s_parties.Length);
                Volatile.Write(ref s_parties, grown);
            }
            s_parties[slot].Party = this;
            _token = slot + 1;
        }
    }

    private int _preparedKind, _preparedCases = -1;

    /// <summary>Readies the party for operations of the given kind (SP_PARTY_*) and
    /// number of cases: a call only when they change (each host call that queues the
    /// party readies the rest itself).</summary>
    protected void Prepare(int kind, int cases)
    {
        if (kind == _preparedKind && cases == _preparedCases)
            return;
        sp_party_init(Party, kind, (ulong)_token, Waiters, cases);
        _preparedKind = kind;
        _preparedCases = cases;
    }

    /// <summary>The engine completed it (or cancelled it: Party->result says which).</summary>
    protected abstract void Completed();

    /// <summary>Resolves a list of completed managed parties (through next_woken).</summary>
    public static void Resolve(sp_party* list)
    {
        while (list != null)
        {
            sp_party* next = list->next_woken; // before the party may be reused
            Volatile.Read(ref s_parties)[(int)list->token - 1].Party!.Completed();
            list = next;
        }
    }

    /// <summary>Gives the native memory and the handle back (a pool that is full drops it).</summary>
    public void Destroy()
    {
        lock (s_tokensLock)
        {
            if (_token == 0)
                return;
            s_parties[_token - 1].Party = null;
            s_freeTokens.Push(_token - 1);
            _token = 0;
        }
        NativeMemory.AlignedFree(Party);
    }
}

/// <summary>A pool of parties of one kind: one spare per worker thread (the party its last
/// operation of this kind gave back), a small cache per other thread, and a shared stack
/// behind them; a party beyond all of them is destroyed (its memory and token freed).</summary>
internal static class PartyPool<T> where T : NativeParty, new()
{
    private const int ThreadCacheSize = 16;
    private const int SharedMax = 1024;

    // A worker's spare is reached through the Machine the operation already looked up:
    // thread statics of a generic class cost a runtime lookup and a TLS call each.
    private static readonly int s_spare = Machine.NewSpareSlot();

    [ThreadStatic] private static T?[]? t_cache;
    [ThreadStatic] private static int t_count;
    private static readonly Stack<T> s_shared = new();
    private static readonly Lock s_lock = new();

    /// <summary>A party, from worker's spare when it has one.</summary>
    public static T Rent(Machine? worker)
    {
        if (worker is not null && worker.TakeSpare(s_spare) is T spare)
            return spare;
        T?[]? cache = t_cache;
        if (cache is not null && t_count > 0)
        {
            T item = cache[--t_count]!;
            cache[t_count] = null;
            return item;
        }
        lock (s_lock)
        {
            if (s_shared.TryPop(out T? shared))
                return shared;
        }
        return new T();
    }

    /// <summary>Gives item back, as the spare of worker (the one it was rented on) when
    /// that has none; from any thread.</summary>
    public static void Return(T item, Machine? worker)
    {
        if (worker is not null && worker.GiveSpare(s_spare, item))
            return;
        T?[] cache = t_cache ??= new T?[ThreadCacheSize];
        if (t_count < cache.Length)
        {
            cache[t_count++] = item;
            return;
        }
        lock (s_lock)
        {
            if (s_shared.Count < SharedMax)
            {
                s_shared.Push(item);
                return;
            }
        }
        item.Destroy();
    }
}
