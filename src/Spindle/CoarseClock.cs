namespace Spindle;

/// <summary>
/// Milliseconds of libspindle's monotonic clock (sp_clock_now) as the runtime monitor last
/// read them, once a millisecond (sp_clock_tick). The switch path stamps goroutine states and
/// resume starts with this, and the native run loop reads the same word for its time slices
/// and timer checks: a field read, where the clock itself is a system call on some machines
/// (clock_gettime was 5% of a channel ping-pong's profile on this project's VM). Go's sysmon
/// ticks the same way. Times read here lag the clock by up to one monitor period.
/// </summary>
internal static unsafe class CoarseClock
{
    private static readonly long* s_nowMs = Init();

    private static long* Init()
    {
        Interop.SpindleHost.sp_clock_tick();
        return Interop.SpindleHost.sp_clock_ms();
    }

    public static long NowMs => Volatile.Read(ref *s_nowMs);

    /// <summary>Reads the clock and advances the word (the monitor, each look); returns
    /// the milliseconds.</summary>
    public static long Tick() => Interop.SpindleHost.sp_clock_tick() / 1_000_000;
}
