namespace Spindle;

/// <summary>A pool of reusable objects: a small per-thread cache in front of a shared
/// stack, so a worker that parks and wakes goroutines rents and returns without locks
/// or allocation.</summary>
internal static class ObjectPool<T> where T : class, new()
{
    private const int ThreadCacheSize = 32;
    private const int SharedMax = 4096;

    [ThreadStatic] private static T?[]? t_cache;
    [ThreadStatic] private static int t_count;
    private static readonly Stack<T> s_shared = new();
    private static readonly Lock s_lock = new();

    public static T Rent()
    {
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

    public static void Return(T item)
    {
        T?[] cache = t_cache ??= new T?[ThreadCacheSize];
        if (t_count < cache.Length)
        {
            cache[t_count++] = item;
            return;
        }
        lock (s_lock)
        {
            if (s_shared.Count < SharedMax)
                s_shared.Push(item);
        }
    }
}
