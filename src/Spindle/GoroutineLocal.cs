namespace Spindle;

/// <summary>
/// A value each managed goroutine has its own copy of: what <c>[ThreadStatic]</c> and
/// <see cref="ThreadLocal{T}"/> are to threads, for goroutines. A managed goroutine may
/// resume on another worker thread after any wait (a channel operation,
/// <see cref="Runtime.Sleep"/>, <see cref="Runtime.Yield"/>), so a thread-local value does
/// not follow it; a <see cref="GoroutineLocal{T}"/> does.
/// </summary>
/// <remarks>
/// <para>Go gives goroutines no identity and no local storage on purpose, and passing
/// values explicitly (or a context) is still the better design; this is for code that has
/// to keep per-goroutine state without changing its signatures, such as a logger's scope or
/// a cache of buffers.</para>
/// <para>A value belongs to the goroutine that set it: another goroutine sees its own value
/// (the default, or the factory's), goroutines it starts do not inherit it, and it dies
/// with the goroutine, so the next goroutine that reuses the same descriptor starts
/// without it. Use it only from a managed goroutine's own code: on a plain thread, a
/// <see cref="Task"/>, a native goroutine's callback, or after
/// <c>ConfigureAwait(false)</c> (which leaves the goroutine for the thread pool) it
/// throws <see cref="InvalidOperationException"/>.</para>
/// <para>A goroutine's first read or write allocates its slot for the value (a read
/// stores the factory's value, or the default); later reads and writes allocate nothing. Make instances once and keep them (a static field, as
/// for <c>[ThreadStatic]</c>): each one takes a slot in every goroutine that uses it
/// until it is collected.</para>
/// </remarks>
/// <typeparam name="T">The type of the value.</typeparam>
public sealed class GoroutineLocal<T>
{
    private readonly int _slot;
    private readonly Func<T>? _valueFactory;

    /// <summary>A goroutine-local value that reads as <c>default(T)</c> until a goroutine
    /// sets it.</summary>
    public GoroutineLocal() : this(null)
    {
    }

    /// <summary>A goroutine-local value that valueFactory makes the first time each
    /// goroutine reads it without having set it (once per goroutine).</summary>
    /// <param name="valueFactory">Makes a goroutine's first value; null for
    /// <c>default(T)</c>.</param>
    public GoroutineLocal(Func<T>? valueFactory)
    {
        _valueFactory = valueFactory;
        _slot = GoroutineLocalSlots.Take();
    }

    /// <summary>Gives the slot back once no goroutine can hold a value of this instance:
    /// a value's box refers to its instance, so while any goroutine still has one, the
    /// instance is reachable and this does not run.</summary>
    ~GoroutineLocal() => GoroutineLocalSlots.Return(_slot);

    /// <summary>The running managed goroutine's value.</summary>
    /// <exception cref="InvalidOperationException">Not called from a managed goroutine.</exception>
    public T Value
    {
        get
        {
            Goroutine g = Require();
            return g.Locals is { } locals && (uint)_slot < (uint)locals.Length && locals[_slot] is Box box
                ? box.Value
                : Create(g).Value;
        }
        set
        {
            Goroutine g = Require();
            if (g.Locals is { } locals && (uint)_slot < (uint)locals.Length && locals[_slot] is Box box)
                box.Value = value;
            else
                Store(g, value);
        }
    }

    /// <summary>Whether the running managed goroutine has a value: it set one, or read it
    /// and got the factory's.</summary>
    /// <exception cref="InvalidOperationException">Not called from a managed goroutine.</exception>
    public bool IsValueCreated =>
        Require().Locals is { } locals && (uint)_slot < (uint)locals.Length && locals[_slot] is Box;

    /// <summary>Its index in every goroutine's values (tests).</summary>
    internal int Slot => _slot;

    /// <summary>Whether the calling code runs as a managed goroutine, where
    /// <see cref="Value"/> may be used.</summary>
    public static bool InGoroutine => Goroutine.Running is not null;

    private static Goroutine Require() => Goroutine.Running ?? throw new InvalidOperationException(
        "spindle: GoroutineLocal<T>.Value is for managed goroutines (Runtime.Go(async () => ...)); this code runs " +
        "outside one: on a thread or a Task, in a native goroutine's callback, or after ConfigureAwait(false)");

    private Box Create(Goroutine g) => Store(g, _valueFactory is null ? default! : _valueFactory());

    private Box Store(Goroutine g, T value)
    {
        object?[] locals = g.Locals is { } l && _slot < l.Length ? l : g.GrowLocals(_slot);
        var box = new Box(this, value);
        locals[_slot] = box;
        return box;
    }

    /// <summary>One goroutine's value. Refers to its instance (see the finalizer).</summary>
    private sealed class Box(GoroutineLocal<T> owner, T value)
    {
        public readonly GoroutineLocal<T> Owner = owner;
        public T Value = value;
    }
}
