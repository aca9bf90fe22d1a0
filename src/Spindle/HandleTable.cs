namespace Spindle;

/// <summary>Objects named by 64-bit handles that native code holds: (generation &lt;&lt; 32)
/// | (slot + 1). A released handle's slot gets a new generation, so a stale handle is
/// recognised rather than mistaken for the slot's next object. 0 is never a handle.</summary>
internal sealed class HandleTable<T> where T : class
{
    private readonly Lock _lock = new();
    private readonly List<(T? Item, uint Generation)> _slots = [];
    private readonly Stack<int> _free = new();

    public ulong Add(T item)
    {
        lock (_lock)
        {
            int slot;
            uint gen;
            if (_free.Count > 0)
            {
                slot = _free.Pop();
                gen = _slots[slot].Generation;
                _slots[slot] = (item, gen);
            }
            else
            {
                slot = _slots.Count;
                gen = 1;
                _slots.Add((item, gen));
            }
            return (ulong)gen << 32 | (uint)(slot + 1);
        }
    }

    public T? Get(ulong handle)
    {
        int slot = (int)(uint)handle - 1;
        uint gen = (uint)(handle >> 32);
        lock (_lock)
        {
            if (slot < 0 || slot >= _slots.Count)
                return null;
            var (item, g) = _slots[slot];
            return g == gen ? item : null;
        }
    }

    /// <summary>Releases handle if check (run under the lock) allows; returns SP_OK, the
    /// check's refusal, or SP_ESTALE.</summary>
    public int Release(ulong handle, Func<T, int> check)
    {
        int slot = (int)(uint)handle - 1;
        uint gen = (uint)(handle >> 32);
        lock (_lock)
        {
            if (slot < 0 || slot >= _slots.Count || _slots[slot].Generation != gen || _slots[slot].Item is null)
                return Interop.SpindleNative.SP_ESTALE;
            int verdict = check(_slots[slot].Item!);
            if (verdict != Interop.SpindleNative.SP_OK)
                return verdict;
            _slots[slot] = (null, gen + 1 == 0 ? 1 : gen + 1);
            _free.Push(slot);
            return Interop.SpindleNative.SP_OK;
        }
    }
}
