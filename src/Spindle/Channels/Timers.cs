using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>Timer channels, as Go's time package makes them.</summary>
public static unsafe class Chan
{
    /// <summary>A channel that receives the monotonic time in nanoseconds once, at least
    /// delay from now (Go's time.After; a negative delay: at once). Made inside a running
    /// runtime, its timer is on the runtime's timer heaps (and stops with the runtime);
    /// made outside one, a .NET timer drives it. <see cref="Timeout.InfiniteTimeSpan"/>
    /// makes a channel that never receives. Its timer stops when the channel is collected.</summary>
    /// <exception cref="ArgumentOutOfRangeException">delay is beyond what nanoseconds in an
    /// int64 hold (about 292 years).</exception>
    public static Chan<long> After(TimeSpan delay)
    {
        bool forever = delay == Timeout.InfiniteTimeSpan;
        long ns = forever ? 0 : Durations.ToNanoseconds(delay, nameof(delay));
        return TimerChannel.Make(ns, period: 0, forever);
    }
}

/// <summary>Go's time.Ticker: <see cref="C"/> receives the monotonic time in nanoseconds
/// every period; ticks a slow reader misses are dropped. Disposing it stops it.</summary>
public sealed unsafe class Ticker : IDisposable
{
    /// <summary>Starts ticking.</summary>
    /// <exception cref="ArgumentOutOfRangeException">period is zero, negative, infinite, or
    /// beyond what nanoseconds in an int64 hold.</exception>
    public Ticker(TimeSpan period)
    {
        if (period <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(period), period, "spindle: a ticker's period must be positive");
        C = TimerChannel.Make(0, Durations.ToNanoseconds(period, nameof(period)), forever: false);
    }

    /// <summary>The channel the ticks arrive on.</summary>
    public Chan<long> C { get; }

    /// <summary>Stops the ticker: no tick is sent after this returns (Go's Ticker.Stop).
    /// Stopping twice does nothing.</summary>
    public void Stop()
    {
        int err = sp_host_ticker_stop(C.RawHandle);
        if (err != SP_OK && err != SP_ESTALE)
            SpindleError.ThrowIfError(err, "spindle: stopping a ticker");
        C.Driver?.Dispose();
    }

    /// <summary>Stops the ticker and releases its channel.</summary>
    public void Dispose()
    {
        Stop();
        C.ReleaseHandle();
    }
}

/// <summary>Makes timer and ticker channels: on the runtime's timer heaps while one runs
/// (the caller's processor's, or the first's for a thread that holds none), else driven by a
/// .NET timer that asks libspindle to send each tick (sp_host_fire).</summary>
internal static unsafe class TimerChannel
{
    public static Chan<long> Make(long firstNs, long period, bool forever)
    {
        Scheduler? sched = Runtime.CurrentScheduler;
        sp_runq* heap = sched is null ? null : Engine.Here != null ? Engine.Here : sched.FirstRunQueue;
        ulong h;
        int err = period > 0 ? sp_host_ticker_make(heap, period, &h) : sp_host_after(heap, firstNs, forever, &h);
        SpindleError.ThrowIfError(err, "spindle: making a timer channel");
        var ch = new Chan<long>(h, owned: true);
        if (sched is not null)
        {
            sched.TimerAdded();
        }
        else if (!forever)
        {
            var driver = new HostDriven(h);
            ch.Driver = driver;
            driver.Start(period > 0 ? period : Math.Max(firstNs, 0));
        }
        return ch;
    }

    /// <summary>A .NET timer that sends the ticks of a timer channel no runtime serves. It
    /// holds the handle, not the channel, so the channel can still be collected.</summary>
    private sealed class HostDriven(ulong handle) : IDisposable
    {
        private Timer? _timer;

        public void Start(long dueNs) =>
            _timer = new Timer(static t => ((HostDriven)t!).Fire(), this, Due(dueNs), Timeout.InfiniteTimeSpan);

        private static TimeSpan Due(long ns) => TimeSpan.FromTicks(Math.Max(0, ns / 100));

        private void Fire()
        {
            sp_wakes w;
            long next = sp_host_fire(handle, &w);
            Engine.Finish(w);
            if (next > 0)
                _timer?.Change(Due(next), Timeout.InfiniteTimeSpan);
        }

        public void Dispose() => _timer?.Dispose();
    }
}

/// <summary>Durations as libspindle takes them: nanoseconds in an int64.</summary>
internal static class Durations
{
    /// <summary>The nanoseconds in d (a negative d gives a negative count: Go's "at once").</summary>
    /// <exception cref="ArgumentOutOfRangeException">d is beyond about 292 years either way.</exception>
    public static long ToNanoseconds(TimeSpan d, string paramName)
    {
        Check(d, paramName);
        return d.Ticks * 100;
    }

    public static void Check(TimeSpan d, string paramName)
    {
        if (d.Ticks > long.MaxValue / 100 || d.Ticks < long.MinValue / 100)
            throw new ArgumentOutOfRangeException(paramName, d,
                "spindle: a duration must fit in an int64 of nanoseconds (about 292 years); use Timeout.InfiniteTimeSpan for no limit");
    }
}
