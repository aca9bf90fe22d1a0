namespace Spindle;

/// <summary>A managed goroutine is the SynchronizationContext its steps run under: every
/// continuation posted to it becomes its next step, run by a worker on its own stack. Code
/// that opts out of the context (ConfigureAwait(false)) continues on the thread pool
/// instead, outside the goroutine. One object, not a context beside the G: a goroutine
/// beyond the most a runtime has had costs one allocation.</summary>
internal sealed partial class Goroutine : SynchronizationContext
{
    public static readonly SendOrPostCallback InvokeAction = static state => ((Action)state!)();

    /// <summary>The scheduler whose table holds this G.</summary>
    public Scheduler Scheduler { get; }

    public override void Post(SendOrPostCallback d, object? state) => Scheduler.PostStep(this, d, state);

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("spindle: a goroutine cannot be entered synchronously from another thread");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>The managed goroutine running on this thread, or null.</summary>
    public static Goroutine? Running => ManagedGoroutineOf(Machine.CurrentMachine);

    /// <summary>The managed goroutine whose step worker runs, or null (no worker, or it runs
    /// a native goroutine or a callback). Code a step runs inline (a continuation that a
    /// completion in the step runs synchronously) counts as the goroutine's, as it would
    /// under its SynchronizationContext.</summary>
    public static Goroutine? ManagedGoroutineOf(Machine? worker) =>
        worker?.Current is { Kind: GoroutineKind.Managed } g ? g : null;
}
