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
/// every period; ticks a slow reader misses are dropped. Disposing it stops it and
/// releases its channel (<c>using var t = new Ticker(period);</c> is Go's <c>defer
/// t.Stop()</c>).</summary>
public sealed unsafe class Ticker : IDisposable
{
    /// <summary>Starts ticking (Go's time.NewTicker).</summary>
    /// <exception cref="ArgumentOutOfRangeException">period is zero, negative, infinite, or
    /// beyond what nanoseconds in an int64 hold.</exception>
    public Ticker(TimeSpan period)
    {
        if (period <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(period), period, "spindle: a ticker's period must be positive");
        C = TimerChannel.Make(0, Durations.ToNanoseconds(period, nameof(period)), forever: false);
    }

    /// <summary>The channel the ticks arrive on (Go's Ticker.C).</summary>
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

    /// <summary>Stops the ticker (Go's <c>defer t.Stop()</c>) and releases its channel (receiving on <see cref="C"/>
    /// then throws ObjectDisposedException). Disposing twice does nothing.</summary>
    public void Dispose()
    {
        Stop();
        C.ReleaseHandle();
    }
}

/// <summary>
/// Go's time.Timer: <see cref="C"/> receives the monotonic time in nanoseconds once, at least
/// the delay after it was made or last <see cref="Reset"/>; <see cref="Stop"/> and
/// <see cref="Reset"/> keep Go 1.23's promise: once they return, no value from before them
/// is received. (Named SpindleTimer, as SpindleMutex is, so that it never clashes with
/// System.Threading.Timer under the SDK's implicit usings.) A .NET timer drives it, inside a
/// runtime or not; a goroutine waiting on <see cref="C"/> never counts towards a deadlock.
/// Disposing it stops it and releases its channel.
/// </summary>
public sealed class SpindleTimer : IDisposable
{
    private readonly Chan<long> _c = new(1);
    private readonly Lock _lock = new();
    private readonly Timer _timer;
    /// <summary>When it fires, in sp_clock_now nanoseconds, while active.</summary>
    private long _deadline;
    private bool _active;
    private bool _disposed;

    /// <summary>Starts a timer that fires after delay (Go's time.NewTimer): a zero or
    /// negative delay fires at once, <see cref="Timeout.InfiniteTimeSpan"/> never (until a
    /// <see cref="Reset"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">delay is beyond what nanoseconds in an
    /// int64 hold (about 292 years).</exception>
    public SpindleTimer(TimeSpan delay)
    {
        Durations.Check(delay, nameof(delay));
        _timer = new Timer(static t => ((SpindleTimer)t!).Fire(), this, Timeout.Infinite, Timeout.Infinite);
        Reset(delay);
    }

    /// <summary>The channel the time arrives on (Go's Timer.C).</summary>
    public Chan<long> C => _c;

    /// <summary>True until it fires, is stopped or disposed (the tests wait on it).</summary>
    internal bool Active
    {
        get
        {
            lock (_lock)
                return _active;
        }
    }

    /// <summary>Stops the timer (Go's Timer.Stop): true if it had not fired yet, or had
    /// fired into a value nobody received (that value is dropped: no receive after Stop gets
    /// it); false if it had fired and the value was received, or it was stopped already.</summary>
    /// <exception cref="ObjectDisposedException">The timer was disposed.</exception>
    public bool Stop()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Disarm();
        }
    }

    /// <summary>Makes the timer fire after delay from now (Go's Timer.Reset), whether it
    /// was running, had fired or was stopped; returns what <see cref="Stop"/> would have.
    /// A value from before the reset is never received after it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">delay is beyond what nanoseconds in an
    /// int64 hold.</exception>
    /// <exception cref="ObjectDisposedException">The timer was disposed.</exception>
    public bool Reset(TimeSpan delay)
    {
        bool forever = delay == Timeout.InfiniteTimeSpan;
        long ns = forever ? 0 : Durations.ToNanoseconds(delay, nameof(delay));
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            bool wasActive = Disarm();
            if (forever)
                return wasActive;
            long now = sp_clock_now();
            _deadline = ns > long.MaxValue - now ? long.MaxValue : now + Math.Max(ns, 0);
            _active = true;
            Arm(_deadline - now);
            return wasActive;
        }
    }

    /// <summary>Stops the timer (Go's <c>defer t.Stop()</c>) and releases its channel (receiving on <see cref="C"/> then
    /// throws ObjectDisposedException). Disposing twice does nothing.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            _active = false;
            _timer.Dispose();
        }
        _c.ReleaseHandle();
    }

    /// <summary>Under the lock: not active any more, and no value left in C.</summary>
    private bool Disarm()
    {
        bool wasActive = _active;
        _active = false;
        _timer.Change(Timeout.Infinite, Timeout.Infinite);
        return _c.TryReceive(out _) || wasActive;
    }

    /// <summary>Under the lock: the .NET timer goes off in ns nanoseconds (rounded up to
    /// its milliseconds, at most its longest due time: Fire arms it again if early).</summary>
    private void Arm(long ns)
    {
        const long maxDueMs = 0xfffffffe;
        long ms = Math.Min((ns + 999_999) / 1_000_000, maxDueMs);
        _timer.Change(ms, Timeout.Infinite);
    }

    private void Fire()
    {
        lock (_lock)
        {
            if (!_active)
                return; // stopped or reset since this firing was scheduled
            long now = sp_clock_now();
            if (now < _deadline)
            {
                Arm(_deadline - now); // never early
                return;
            }
            _active = false;
            try
            {
                _c.TrySend(now);
            }
            catch (Exception e) when (e is ChannelClosedException or ObjectDisposedException)
            {
                // User code closed or released C (Go's is receive-only): nothing to deliver,
                // and an exception here would end the process from the timer's thread.
            }
        }
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
