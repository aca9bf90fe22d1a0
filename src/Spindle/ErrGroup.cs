using System.Runtime.ExceptionServices;

namespace Spindle;

/// <summary>
/// Go's errgroup (golang.org/x/sync/errgroup, with WithContext): functions started with
/// <see cref="Go"/> run at once, each with the group's <see cref="Token"/>;
/// <see cref="WaitAsync"/> waits for all of them and throws the first exception one of them
/// ended with (Go's <c>if err := g.Wait(); err != nil</c>), and that first exception cancels
/// <see cref="Token"/> so that the others can stop early. <see cref="SetLimit"/> bounds how
/// many run at once. In a running runtime each function is a managed goroutine; elsewhere a
/// thread-pool task. A function that throws does not end the program (as a failing
/// goroutine would): its exception is the group's error.
/// </summary>
/// <example><code>
/// using var g = new ErrGroup(cancellationToken);
/// foreach (string url in urls)
///     g.Go(async ct =&gt; await Fetch(url, ct));
/// await g.WaitAsync(); // the first failure, once every fetch has returned
/// </code></example>
public sealed class ErrGroup : IDisposable
{
    /// <summary>An empty element: the limit's channel carries no data (Go's
    /// <c>chan token</c>).</summary>
    private struct Slot;

    private readonly CancellationTokenSource _cancel = new();
    private readonly CancellationToken _token;
    private readonly CancellationTokenRegistration _parent;
    private readonly WaitGroup _running = new();
    /// <summary>One value per function running (Go's sem), null without a limit.</summary>
    private Chan<Slot>? _slots;
    private Exception? _first;
    private volatile bool _disposed;

    /// <summary>Makes a group whose <see cref="Token"/> is cancelled by cancellationToken, by
    /// the first function that fails, by the end of <see cref="WaitAsync"/> or by
    /// <see cref="Dispose"/>, whichever comes first (Go's errgroup.WithContext).</summary>
    /// <param name="cancellationToken">The parent token (Go's parent context).</param>
    public ErrGroup(CancellationToken cancellationToken = default)
    {
        _token = _cancel.Token;
        if (cancellationToken.CanBeCanceled)
            _parent = cancellationToken.UnsafeRegister(static g => ((ErrGroup)g!).Cancel(), this);
    }

    /// <summary>The token every function gets (Go's derived context).</summary>
    public CancellationToken Token => _token;

    /// <summary>Limits how many functions run at once to limit; a negative limit removes
    /// the limit (Go's Group.SetLimit). With a limit of 0 no function ever starts: TryGo
    /// refuses, and a function given to Go waits for ever.</summary>
    /// <exception cref="InvalidOperationException">A function of the group is running or
    /// waiting to start (Go panics).</exception>
    /// <exception cref="ObjectDisposedException">The group was disposed.</exception>
    public void SetLimit(int limit)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_running.Count != 0)
            throw new InvalidOperationException($"spindle: errgroup: modify limit while {_running.Count} functions in the group are still active");
        _slots = limit < 0 ? null : new Chan<Slot>(limit);
    }

    /// <summary>Starts body with <see cref="Token"/> (Go's Group.Go). At the limit, body
    /// waits for a running function to return before it starts, in the order Go was called;
    /// Go itself never blocks (Go's blocks its caller: here the caller may be a goroutine's
    /// worker thread).</summary>
    /// <exception cref="ArgumentNullException">body is null.</exception>
    /// <exception cref="ObjectDisposedException">The group was disposed.</exception>
    public void Go(Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Start(body, _slots, holdsSlot: false);
    }

    /// <summary>Starts body only if the limit allows it now; false otherwise, and body does
    /// not run (Go's Group.TryGo). Without a limit it always starts.</summary>
    /// <exception cref="ArgumentNullException">body is null.</exception>
    /// <exception cref="ObjectDisposedException">The group was disposed.</exception>
    public bool TryGo(Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Chan<Slot>? slots = _slots;
        if (slots is not null && !slots.TrySend(default))
            return false;
        Start(body, slots, holdsSlot: true);
        return true;
    }

    private void Start(Func<CancellationToken, Task> body, Chan<Slot>? slots, bool holdsSlot)
    {
        _running.Add(1);
        Func<Task> run = () => Run(body, slots, holdsSlot);
        try
        {
            if (Runtime.CurrentScheduler is not null)
                Runtime.Go(run);
            else
                _ = Task.Run(run);
        }
        catch
        {
            // Not started (the runtime stopped meanwhile): WaitAsync must not wait for it.
            if (holdsSlot)
                slots?.TryReceive(out _);
            _running.Done();
            throw;
        }
    }

    private async Task Run(Func<CancellationToken, Task> body, Chan<Slot>? slots, bool holdsSlot)
    {
        try
        {
            if (slots is not null && !holdsSlot)
                await slots.SendAsync(default);
            try
            {
                await body(_token);
            }
            finally
            {
                slots?.TryReceive(out _);
            }
        }
        catch (Exception e)
        {
            if (Interlocked.CompareExchange(ref _first, e, null) is null)
                Cancel();
        }
        finally
        {
            _running.Done();
        }
    }

    /// <summary>Waits until every function started has returned (Go's Group.Wait), then
    /// cancels <see cref="Token"/>, and throws the first exception a function ended with,
    /// if one did. It may be awaited after <see cref="Dispose"/>.</summary>
    /// <param name="cancellationToken">Ends this wait only: the functions go on, and the
    /// group's token is not cancelled by it.</param>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled first.</exception>
    public async Task WaitAsync(CancellationToken cancellationToken = default)
    {
        await _running.WaitAsync(cancellationToken);
        Cancel();
        if (Volatile.Read(ref _first) is { } first)
            ExceptionDispatchInfo.Throw(first);
    }

    /// <summary>Cancels <see cref="Token"/> (the cancel function Go's WithContext keeps) and lets go of the parent token; the group then
    /// starts nothing more. Functions already started go on (they see the token
    /// cancelled), and <see cref="WaitAsync"/> still waits for them.</summary>
    public void Dispose()
    {
        _disposed = true;
        Cancel();
    }

    private void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (AggregateException)
        {
            // A callback someone registered on Token threw. Every callback ran; the group's
            // error stays the first function's, and a throwing callback must not end the
            // goroutine that happened to cancel (as in Go, cancel never fails).
        }
        _parent.Dispose();
    }
}
