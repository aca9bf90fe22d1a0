namespace Spindle;

/// <summary>An object native code names by a 64-bit handle.</summary>
internal interface IHandleOwner
{
    /// <summary>The handle it was registered under, or 0.</summary>
    ulong Handle { get; set; }
}

/// <summary>Objects named by 64-bit handles that native code holds: (generation &lt;&lt; 32)
/// | (slot + 1). A released handle's slot gets a new generation, so a stale handle is
/// recognised rather than mistaken for the slot's next object. 0 is never a handle.
/// Lookups take no lock: every channel operation of a native goroutine makes one.</summary>
internal sealed class HandleTable<T> where T : class, IHandleOwner
{
    /// <summary>A slot: its object and the handle it was registered under. Lookups
    /// compare the handle stored here rather than ask the object, which in shared
    /// generic code would be an interface call.</summary>
    private struct Entry
    {
        public T? Item;
        public ulong Handle;
    }

    private readonly Lock _lock = new();
    private Entry[] _entries = new Entry[16];
    private uint[] _generations = new uint[16];
    private int _used;
    private readonly Stack<int> _free = new();

    public ulong Add(T item)
    {
        lock (_lock)
        {
            int slot;
            if (_free.Count > 0)
            {
                slot = _free.Pop();
            }
            else
            {
                if (_used == _entries.Length)
                {
                    Array.Resize(ref _generations, _used * 2);
                    var grown = new Entry[_used * 2];
                    Array.Copy(_entries, grown, _used);
                    Volatile.Write(ref _entries, grown);
                }
                slot = _used++;
            }
            uint gen = ++_generations[slot];
            if (gen == 0)
                gen = _generations[slot] = 1;
            ulong handle = (ulong)gen << 32 | (uint)(slot + 1);
            item.Handle = handle;
            // The handle first, then the item: a reader that sees the new item sees its handle.
            Volatile.Write(ref _entries[slot].Handle, handle);
            Volatile.Write(ref _entries[slot].Item, item);
            return handle;
        }
    }

    public T? Get(ulong handle)
    {
        Entry[] entries = Volatile.Read(ref _entries);
        uint slot = (uint)handle - 1;
        if (slot >= (uint)entries.Length)
            return null;
        T? item = Volatile.Read(ref entries[slot].Item);
        return item is not null && Volatile.Read(ref entries[slot].Handle) == handle ? item : null;
    }

    /// <summary>Releases handle if check allows (run under the table's lock; the object
    /// may take its own lock inside); returns SP_OK, the check's refusal, or SP_ESTALE.</summary>
    public int Release(ulong handle, Func<T, int> check)
    {
        lock (_lock)
        {
            T? item = Get(handle);
            if (item is null)
                return Interop.SpindleNative.SP_ESTALE;
            int verdict = check(item);
            if (verdict != Interop.SpindleNative.SP_OK)
                return verdict;
            int slot = (int)(uint)handle - 1;
            Volatile.Write(ref _entries[slot].Item, null);
            _free.Push(slot);
            return Interop.SpindleNative.SP_OK;
        }
    }
}
