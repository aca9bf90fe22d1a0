namespace Spindle;

/// <summary>Timer channels, as Go's time package makes them.</summary>
public static class Chan
{
    /// <summary>A channel that receives the monotonic time in nanoseconds once, at least
    /// delay from now (Go's time.After). Made inside a running runtime, its timer is the
    /// runtime's (and stops with it); made outside one, a .NET timer's.</summary>
    public static Chan<long> After(TimeSpan delay) =>
        new(ChannelTimer.After(delay.Ticks * 100, Runtime.CurrentScheduler, visibleOutside: true));
}

/// <summary>Go's time.Ticker: <see cref="C"/> receives the monotonic time in nanoseconds
/// every period; ticks a slow reader misses are dropped.</summary>
public sealed class Ticker
{
    private readonly ChannelTimer _timer;

    /// <summary>Starts ticking.</summary>
    /// <exception cref="ArgumentOutOfRangeException">period is zero or negative.</exception>
    public Ticker(TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        ChannelCore core = ChannelTimer.Ticker(period.Ticks * 100, Runtime.CurrentScheduler, visibleOutside: true);
        _timer = core.Timer!;
        C = new Chan<long>(core);
    }

    /// <summary>The channel the ticks arrive on.</summary>
    public Chan<long> C { get; }

    /// <summary>Stops the ticker: no tick is sent after this returns.</summary>
    public void Stop() => _timer.Stop();
}
