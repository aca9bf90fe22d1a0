namespace Spindle;

/// <summary>
/// Milliseconds (Environment.TickCount64) as the runtime monitor last read them, once a
/// millisecond. The switch path stamps goroutine states and resume starts with this: a
/// field read, where the clock itself is a system call on this VM (Environment.TickCount64
/// and clock_gettime were 5% of a channel ping-pong's profile). Go's sysmon ticks the
/// same way. Times read here lag the clock by up to one monitor period.
/// </summary>
internal static class CoarseClock
{
    private static long s_nowMs = Environment.TickCount64;

    public static long NowMs => Volatile.Read(ref s_nowMs);

    /// <summary>Reads the clock (the monitor, each look); returns it.</summary>
    public static long Tick()
    {
        long now = Environment.TickCount64;
        Volatile.Write(ref s_nowMs, now);
        return now;
    }
}
