namespace Spindle;

/// <summary>A plain thread blocked in a channel operation, a select or a mutex lock:
/// its elements live on its own stack, and waking it signals its monitor.</summary>
internal sealed class ThreadParker : Parker
{
    private bool _signaled;

    public static ThreadParker Rent(int cases)
    {
        if (Machine.CurrentMachine is not null)
            throw new InvalidOperationException(
                "spindle: a blocking channel or mutex call would block a worker thread; in a goroutine use the Async method");
        ThreadParker p = ObjectPool<ThreadParker>.Rent();
        p.Reset(cases);
        p._signaled = false;
        return p;
    }

    public override void BeforePark(WaitReason reason, bool outside)
    {
    }

    protected override void OnWake()
    {
        lock (this)
        {
            _signaled = true;
            Monitor.Pulse(this);
        }
    }

    /// <summary>Blocks until woken.</summary>
    public void WaitForWake()
    {
        lock (this)
        {
            while (!_signaled)
                Monitor.Wait(this);
        }
    }

    public void Free() => ObjectPool<ThreadParker>.Return(this);
}
