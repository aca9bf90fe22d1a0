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
    private readonly Lock _lock = new();
    private T?[] _items = new T?[16];
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
                if (_used == _items.Length)
                {
                    Array.Resize(ref _generations, _used * 2);
                    T?[] grown = new T?[_used * 2];
                    Array.Copy(_items, grown, _used);
                    Volatile.Write(ref _items, grown);
                }
                slot = _used++;
            }
            uint gen = ++_generations[slot];
            if (gen == 0)
                gen = _generations[slot] = 1;
            ulong handle = (ulong)gen << 32 | (uint)(slot + 1);
            item.Handle = handle;
            Volatile.Write(ref _items[slot], item);
            return handle;
        }
    }

    public T? Get(ulong handle)
    {
        T?[] items = Volatile.Read(ref _items);
        uint slot = (uint)handle - 1;
        if (slot >= (uint)items.Length)
            return null;
        T? item = Volatile.Read(ref items[slot]);
        return item is not null && item.Handle == handle ? item : null;
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
            Volatile.Write(ref _items[slot], null);
            _free.Push(slot);
            return Interop.SpindleNative.SP_OK;
        }
    }
}
