namespace Spindle;

/// <summary>The slots of the goroutine-local values in a goroutine's
/// <see cref="Goroutine.Locals"/>: one per live <see cref="GoroutineLocal{T}"/>, reused
/// after an instance is collected, so the arrays stay as short as the most instances alive
/// at once.</summary>
internal static class GoroutineLocalSlots
{
    private static readonly Lock s_lock = new();
    private static readonly Stack<int> s_free = new();
    private static int s_next;

    public static int Take()
    {
        lock (s_lock)
            return s_free.Count > 0 ? s_free.Pop() : s_next++;
    }

    public static void Return(int slot)
    {
        lock (s_lock)
            s_free.Push(slot);
    }
}
