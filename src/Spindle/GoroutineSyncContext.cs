namespace Spindle;

/// <summary>The SynchronizationContext a managed goroutine's steps run under: every
/// continuation posted to it becomes the goroutine's next step, run by a worker on its
/// own stack. Code that opts out of the context (ConfigureAwait(false)) continues on the
/// thread pool instead, outside the goroutine.</summary>
internal sealed class GoroutineSyncContext(Scheduler sched, Goroutine g) : SynchronizationContext
{
    public static readonly SendOrPostCallback InvokeAction = static state => ((Action)state!)();

    public Goroutine Goroutine => g;

    public Scheduler Scheduler => sched;

    public override void Post(SendOrPostCallback d, object? state) => sched.PostStep(g, d, state);

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("spindle: a goroutine cannot be entered synchronously from another thread");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>The managed goroutine running on this thread, or null.</summary>
    public static Goroutine? CurrentGoroutine => ManagedGoroutineOf(Machine.CurrentMachine);

    /// <summary>The managed goroutine whose step worker runs, or null (no worker, or it runs
    /// a native goroutine or a callback). Code a step runs inline (a continuation that a
    /// completion in the step runs synchronously) counts as the goroutine's, as it would
    /// under its SynchronizationContext.</summary>
    public static Goroutine? ManagedGoroutineOf(Machine? worker) =>
        worker?.Current is { Kind: GoroutineKind.Managed } g ? g : null;
}
