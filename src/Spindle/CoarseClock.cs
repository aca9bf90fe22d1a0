namespace Spindle;

/// <summary>
/// Milliseconds (Environment.TickCount64) as the runtime monitor last read them, once a
/// millisecond. The switch path stamps goroutine states and resume starts with this: a
/// field read, where the clock itself is a system call on this VM (Environment.TickCount64
/// and clock_gettime were 5% of a channel ping-pong's profile). Go's sysmon ticks the
/// same way. Times read here lag the clock by up to one monitor period.
/// </summary>
internal static unsafe class CoarseClock
{
    // libspindle's word (sp_clock_ms), which the native run loop and the goroutine
    // records it starts and finishes are stamped from.
    private static readonly long* s_nowMs = Init();

    private static long* Init()
    {
        long* word = Interop.SpindleNative.sp_clock_ms();
        Volatile.Write(ref *word, Environment.TickCount64);
        return word;
    }

    public static long NowMs => Volatile.Read(ref *s_nowMs);

    /// <summary>Reads the clock (the monitor, each look); returns it.</summary>
    public static long Tick()
    {
        long now = Environment.TickCount64;
        Volatile.Write(ref *s_nowMs, now);
        return now;
    }
}
