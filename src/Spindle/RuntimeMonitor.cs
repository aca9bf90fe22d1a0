namespace Spindle;

/// <summary>Go's sysmon: a thread that holds no P and watches the others. It takes the
/// P from a worker that has been inside one resume too long, a blocking call past
/// <see cref="BlockingThresholdMs"/> or a goroutine that makes no runtime call past
/// <see cref="HogThresholdMs"/>, and hands it to another worker, so the remaining
/// goroutines keep running. It also wakes a worker when a timer is due and all are idle,
/// or when goroutines wait in a queue while a processor is idle (native code that readies
/// goroutines wakes no worker itself).</summary>
internal sealed class RuntimeMonitor
{
    /// <summary>Go retakes a P from a syscall after 20 us; with millisecond resume
    /// times and one look a millisecond, the finest here is 1 ms (1 - 2 ms in effect).</summary>
    public const long BlockingThresholdMs = 1;
    /// <summary>Go preempts a goroutine after 10 ms.</summary>
    public const long HogThresholdMs = 10;

    private readonly Scheduler _sched;
    private readonly Thread _thread;
    private volatile bool _stop;

    public RuntimeMonitor(Scheduler sched)
    {
        _sched = sched;
        _thread = new Thread(Loop) { IsBackground = true, Name = "spindle sysmon" };
    }

    public void Start() => _thread.Start();

    public void Stop()
    {
        _stop = true;
        _thread.Join();
    }

    private void Loop()
    {
        while (!_stop)
        {
            Thread.Sleep(1); // the finest sleep the OS offers reliably; Go starts at 20 us
            long now = CoarseClock.Tick();
            foreach (Processor p in _sched.AllProcessors)
            {
                long status = Volatile.Read(ref p.Status);
                long state = Processor.StateOf(status);
                long limit = state == Processor.InBlocking ? BlockingThresholdMs
                    : state == Processor.InGoroutine ? HogThresholdMs : -1;
                long since = Math.Max(Volatile.Read(ref p.RunStart), p.SwitchedSince(now));
                if (limit < 0 || now - since < limit || !_sched.TryRetake(p, status))
                    continue;
                if (state == Processor.InGoroutine)
                {
                    Interlocked.Increment(ref _sched.HogsRetaken);
                    RuntimeEvents.Log.HogDetected(p.Id, now - since);
                    RuntimeEvents.Log.ProcessorRetaken(p.Id, (int)RuntimeEvents.RetakeReason.Hog, now - since);
                }
                else
                {
                    Interlocked.Increment(ref _sched.BlockingRetaken);
                    RuntimeEvents.Log.ProcessorRetaken(p.Id, (int)RuntimeEvents.RetakeReason.Blocking, now - since);
                }
                _sched.Handoff(p);
            }
            _sched.ResolveStrayWakes();
            if (_sched.NextTimerDeadline() <= Interop.SpindleHost.sp_clock_now() || _sched.QueuedWorkWhileIdle())
                _sched.Wakep();
        }
    }
}
