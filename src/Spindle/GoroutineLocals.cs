namespace Spindle;

/// <summary>A managed goroutine's <see cref="GoroutineLocal{T}"/> values.</summary>
internal sealed partial class Goroutine
{
    /// <summary>Its goroutine-local values by slot (GoroutineLocalSlots), each in its
    /// instance's box; null until it sets one. Touched only by the goroutine's own steps
    /// (one at a time, whichever worker runs them) and by FreeG once it has ended.</summary>
    public object?[]? Locals;

    /// <summary>Locals, grown to hold slot.</summary>
    public object?[] GrowLocals(int slot)
    {
        object?[] grown = new object?[Math.Max(slot + 1, Math.Max(4, (Locals?.Length ?? 0) * 2))];
        Locals?.CopyTo(grown, 0);
        return Locals = grown;
    }

    /// <summary>Forgets every value (a goroutine that is freed: the next goroutine of this
    /// descriptor must not see them). Keeps the array for that goroutine.</summary>
    public void ClearLocals()
    {
        if (Locals is { } locals)
            Array.Clear(locals);
    }
}
