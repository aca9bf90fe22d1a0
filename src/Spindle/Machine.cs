namespace Spindle;

/// <summary>An M: a worker OS thread with a normal stack, where all managed code of the
/// runtime (scheduling, serving runtime calls, callbacks, managed goroutines) runs.</summary>
internal sealed class Machine
{
    [ThreadStatic] private static Machine? t_current;

    public readonly int Id;
    public readonly Thread Thread;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Scheduler _sched;

    public Processor? P;
    /// <summary>A P handed to this M by whoever woke it.</summary>
    public Processor? NextP;
    public bool Spinning;
    public Goroutine? Current;

    /// <summary>The M running on the calling thread, or null.</summary>
    public static Machine? CurrentMachine => t_current;

    public Machine(Scheduler sched, int id)
    {
        _sched = sched;
        Id = id;
        Thread = new Thread(Main, 1024 * 1024) { IsBackground = true, Name = $"spindle M{id}" };
    }

    public void Start() => Thread.Start();

    /// <summary>Parks until woken or the timeout (ms, -1 for none) passes.</summary>
    public bool Park(int timeoutMs) => _wake.Wait(timeoutMs);

    public void Unpark() => _wake.Release();

    private void Main()
    {
        t_current = this;
        try
        {
            _sched.WorkerLoop(this);
        }
        catch (Exception e)
        {
            _sched.Fail(new InvalidOperationException($"spindle: worker M{Id} failed", e));
        }
        finally
        {
            t_current = null;
        }
    }
}
