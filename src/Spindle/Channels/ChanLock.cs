namespace Spindle;

/// <summary>
/// The lock of one channel: its critical sections are a few dozen instructions (a
/// queue link, a copy of at most 64 KiB), so a word taken with one compare-exchange,
/// spinning briefly and then yielding the thread, as Go's runtime lock does.
/// System.Threading.Lock reads the managed thread id from thread-local storage on every
/// enter and exit, and showed as 15% of a channel ping-pong's profile. Not reentrant.
/// The word is the channel's native state's, which native goroutines take too (chan_fast.c).
/// </summary>
internal sealed unsafe class ChanLock(int* held)
{
    public void Enter()
    {
        if (Interlocked.CompareExchange(ref *held, 1, 0) == 0)
            return;
        EnterContended();
    }

    private void EnterContended()
    {
        var spin = new SpinWait();
        do
            spin.SpinOnce(sleep1Threshold: -1); // spins, then yields; never sleeps a millisecond
        while (Volatile.Read(ref *held) != 0 || Interlocked.CompareExchange(ref *held, 1, 0) != 0);
    }

    public void Exit() => Volatile.Write(ref *held, 0);

    /// <summary>For <c>using (ch.Lock.Hold())</c> blocks off the hot path.</summary>
    public Scope Hold()
    {
        Enter();
        return new Scope(this);
    }

    public readonly struct Scope(ChanLock owner) : IDisposable
    {
        public void Dispose() => owner.Exit();
    }
}
