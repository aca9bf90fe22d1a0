using System.Diagnostics;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

/// <summary>
/// The timer behind a timer channel (Go's time.After) or a ticker (time.Ticker): when due
/// it sends the monotonic time in nanoseconds (CLOCK_MONOTONIC, what Stopwatch reads) to
/// its channel of capacity 1 without waiting, so a tick nobody has read yet makes the next
/// one drop, as in Go. Inside a runtime it lives in a P's timer queue, and counts as
/// something that can still wake goroutines; without a runtime, a .NET timer drives it.
/// </summary>
internal sealed unsafe class ChannelTimer
{
    public readonly ChannelCore Channel;
    /// <summary>Stopwatch ticks between ticks; 0 for a one-shot timer.</summary>
    public readonly long PeriodTicks;
    /// <summary>The next deadline in Stopwatch ticks.</summary>
    public long When;
    private readonly Scheduler? _sched;
    private readonly Timer? _dotnetTimer;
    private bool _stopped; // under Channel.Lock

    private ChannelTimer(ChannelCore channel, long delayTicks, long periodTicks, Scheduler? sched)
    {
        Channel = channel;
        PeriodTicks = periodTicks;
        When = Stopwatch.GetTimestamp() + Math.Max(0, delayTicks);
        _sched = sched;
        channel.Timer = this;
        if (sched is not null)
        {
            sched.StartTimer(this);
        }
        else
        {
            TimeSpan due = Stopwatch.GetElapsedTime(0, Math.Max(0, delayTicks));
            _dotnetTimer = new Timer(static t => ((ChannelTimer)t!).Fire(Stopwatch.GetTimestamp()), this,
                due, periodTicks > 0 ? Stopwatch.GetElapsedTime(0, periodTicks) : Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>A channel that receives the time once, nanoseconds from now.</summary>
    public static ChannelCore After(long nanoseconds, Scheduler? sched, bool visibleOutside)
    {
        ChannelCore.TryCreate(sizeof(long), 1, visibleOutside, out ChannelCore? ch);
        _ = new ChannelTimer(ch!, Scheduler.NanosecondsToTicks(Math.Max(0, nanoseconds)), 0, sched);
        return ch!;
    }

    /// <summary>A channel that receives the time every period (period &gt; 0).</summary>
    public static ChannelCore Ticker(long periodNanoseconds, Scheduler? sched, bool visibleOutside)
    {
        ChannelCore.TryCreate(sizeof(long), 1, visibleOutside, out ChannelCore? ch);
        long period = Math.Max(1, Scheduler.NanosecondsToTicks(periodNanoseconds));
        _ = new ChannelTimer(ch!, period, period, sched);
        return ch!;
    }

    public static long ToNanoseconds(long stopwatchTicks) =>
        Stopwatch.Frequency == 1_000_000_000 ? stopwatchTicks : (long)((Int128)stopwatchTicks * 1_000_000_000 / Stopwatch.Frequency);

    /// <summary>Sends the time (dropped if the last one is unread). True when the timer
    /// should run again at <see cref="When"/>.</summary>
    public bool Fire(long now)
    {
        long ns = ToNanoseconds(now);
        Woken woken = default;
        bool again;
        Channel.Lock.Enter();
        if (_stopped)
        {
            Channel.Lock.Exit();
            return false;
        }
        Channel.TrySendLocked((byte*)&ns, ref woken);
        again = PeriodTicks > 0 && _dotnetTimer is null;
        if (again)
            When += PeriodTicks * (1 + (now - When) / PeriodTicks); // skip missed ticks
        else if (PeriodTicks == 0)
            StopLocked();
        Channel.Lock.Exit();
        woken.Wake();
        return again;
    }

    /// <summary>Stops a ticker: nothing is sent after this returns. SP_EINVAL for a
    /// one-shot timer.</summary>
    public int Stop()
    {
        if (PeriodTicks == 0)
            return SP_EINVAL;
        using (Channel.Lock.Hold())
            StopLocked();
        return SP_OK;
    }

    private void StopLocked()
    {
        if (_stopped)
            return;
        _stopped = true;
        _dotnetTimer?.Dispose();
        if (_sched is not null)
            Interlocked.Decrement(ref _sched.TimersPending);
    }
}
