using System.Runtime.InteropServices;
using Spindle.Interop;

namespace Spindle;

/// <summary>Every goroutine descriptor a scheduler has made, by slot, each with the
/// native record (sp_g) that the native run queues hold in its place. Descriptors are
/// reused, never removed, so a record found in a queue always maps back to its G.
/// Records live in native chunks freed with the table.</summary>
internal sealed unsafe class GoroutineTable
{
    private const int ChunkBits = 12;
    private const int ChunkSize = 1 << ChunkBits;

    private readonly Lock _lock = new();
    // Readers index these without the lock: a chunk is filled in before any of its
    // records can reach a queue, and a grown array keeps every chunk of the old one.
    private volatile Goroutine[]?[] _chunks = new Goroutine[]?[16];
    private sp_g*[] _nativeChunks = new sp_g*[16];
    private int _count;

    /// <summary>How many descriptors exist.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>A new descriptor with its own slot and native record.</summary>
    public Goroutine Add()
    {
        lock (_lock)
        {
            int slot = _count;
            int chunk = slot >> ChunkBits;
            if (chunk == _chunks.Length)
            {
                var grown = new Goroutine[]?[_chunks.Length * 2];
                Array.Copy(_chunks, grown, _chunks.Length);
                var grownNative = new sp_g*[grown.Length];
                Array.Copy(_nativeChunks, grownNative, _nativeChunks.Length);
                _nativeChunks = grownNative;
                _chunks = grown;
            }
            if (_chunks[chunk] is null)
            {
                _nativeChunks[chunk] = (sp_g*)NativeMemory.AllocZeroed((nuint)ChunkSize, (nuint)sizeof(sp_g));
                _chunks[chunk] = new Goroutine[ChunkSize];
            }
            sp_g* native = _nativeChunks[chunk] + (slot & (ChunkSize - 1));
            native->slot = slot;
            var g = new Goroutine(native);
            _chunks[chunk]![slot & (ChunkSize - 1)] = g;
            Volatile.Write(ref _count, slot + 1);
            return g;
        }
    }

    /// <summary>The descriptor of a native record this table made.</summary>
    public Goroutine this[sp_g* native]
    {
        get
        {
            long slot = native->slot;
            return _chunks[slot >> ChunkBits]![slot & (ChunkSize - 1)];
        }
    }

    /// <summary>Calls visit on every descriptor made so far, dead ones included.</summary>
    public void ForEach(Action<Goroutine> visit)
    {
        int n = Count;
        Goroutine[]?[] chunks = _chunks;
        for (int i = 0; i < n; i++)
            visit(chunks[i >> ChunkBits]![i & (ChunkSize - 1)]);
    }

    ~GoroutineTable()
    {
        foreach (sp_g* chunk in _nativeChunks)
            if (chunk is not null)
                NativeMemory.Free(chunk);
    }
}
