using Xunit;
using static Spindle.Runtime;
using static Spindle.Tests.CancellationTests;

namespace Spindle.Tests;

/// <summary>Go's helpers from C#: ErrGroup (the first error wins and cancels the others; the
/// limit, counted), WaitGroup.Go, SpindleTimer's Stop and Reset, the mutex scope, awaitables
/// that Task.WhenAll and Task.WhenAny take, and the documented exception for every bad
/// input.</summary>
public class GoHelperTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TheFirstErrorWinsAndCancelsTheOthers(int maxProcs)
    {
        var first = new InvalidOperationException("first");
        Exception? thrown = null;
        int cancelledSeen = 0;
        bool tokenCancelled = false;
        RunBounded(async () =>
        {
            var parked = new WaitGroup();
            parked.Add(3);
            var never = new Chan<int>();
            using var g = new ErrGroup();
            for (int i = 0; i < 3; i++)
            {
                g.Go(async ct =>
                {
                    // Each waits on something only the group's token ends.
                    ValueTask<int> receive = never.ReceiveAsync(ct);
                    parked.Done();
                    try
                    {
                        await receive;
                    }
                    catch (OperationCanceledException e) when (e.CancellationToken == ct)
                    {
                        Interlocked.Increment(ref cancelledSeen);
                        throw new TimeoutException("a later error"); // never the group's error
                    }
                });
            }
            await parked.WaitAsync();
            g.Go(_ => throw first);
            try
            {
                await g.WaitAsync();
            }
            catch (Exception e)
            {
                thrown = e;
            }
            tokenCancelled = g.Token.IsCancellationRequested;
        }, maxProcs);
        Assert.Same(first, thrown);
        Assert.Equal(3, cancelledSeen);
        Assert.True(tokenCancelled);
    }

    [Fact]
    public void AGroupWithoutErrorsWaitsForAllAndThenCancelsItsToken()
    {
        int ran = 0;
        bool cancelledBeforeWait = true, cancelledAfter = false;
        RunBounded(async () =>
        {
            var parent = new CancellationTokenSource();
            var g = new ErrGroup(parent.Token);
            for (int i = 0; i < 20; i++)
                g.Go(async _ => { await Yield(); Interlocked.Increment(ref ran); });
            cancelledBeforeWait = g.Token.IsCancellationRequested;
            await g.WaitAsync(); // nothing thrown
            cancelledAfter = g.Token.IsCancellationRequested; // Go: Wait's return cancels the context
            Assert.False(parent.IsCancellationRequested);

            // The parent's cancellation reaches the group's token.
            var other = new CancellationTokenSource();
            var h = new ErrGroup(other.Token);
            h.Go(ct => Sleep(Timeout.InfiniteTimeSpan, ct).AsTask());
            other.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.WaitAsync());
        }, maxProcs: 2);
        Assert.Equal(20, ran);
        Assert.False(cancelledBeforeWait);
        Assert.True(cancelledAfter);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(4, 3)]
    public void TheLimitIsRespectedCounted(int maxProcs, int limit)
    {
        const int functions = 20;
        int running = 0, mostRunning = 0, started = 0, refused = -1;
        RunBounded(async () =>
        {
            var release = new Chan<int>();
            var g = new ErrGroup();
            g.SetLimit(limit);
            for (int i = 0; i < functions; i++)
            {
                g.Go(async ct =>
                {
                    int now = Interlocked.Increment(ref running);
                    Interlocked.Increment(ref started);
                    for (int seen = mostRunning; now > seen; seen = mostRunning)
                        Interlocked.CompareExchange(ref mostRunning, now, seen);
                    await release.ReceiveAsync(ct);
                    Interlocked.Decrement(ref running);
                });
            }
            for (int i = 0; Volatile.Read(ref started) < limit; i++)
            {
                Assert.True(i < 1_000_000, "the first functions never started");
                await Yield();
            }
            refused = g.TryGo(_ => Task.CompletedTask) ? 0 : 1; // at the limit: refused, not queued
            Assert.Throws<InvalidOperationException>(() => g.SetLimit(functions)); // functions are active
            // Each value released lets one function return, and one waiting one start.
            for (int i = 0; i < functions; i++)
                await release.SendAsync(i);
            await g.WaitAsync();
            g.SetLimit(-1);
            Assert.True(g.TryGo(_ => Task.CompletedTask));
            await g.WaitAsync();
        }, maxProcs);
        Assert.Equal(functions, started);
        Assert.Equal(limit, mostRunning);
        Assert.Equal(1, refused);
    }

    [Fact]
    public void AGroupRunsOnTheThreadPoolOutsideARuntime() => Bounded(async () =>
    {
        var g = new ErrGroup();
        g.SetLimit(2);
        int ran = 0;
        for (int i = 0; i < 10; i++)
            g.Go(async ct => { await Task.Yield(); Interlocked.Increment(ref ran); });
        var error = new FormatException();
        g.Go(_ => Task.FromException(error));
        Assert.Same(error, await Assert.ThrowsAsync<FormatException>(() => g.WaitAsync()));
        Assert.Equal(10, ran);
        // WaitAsync's own token ends the wait only.
        var h = new ErrGroup();
        var gate = new TaskCompletionSource();
        h.Go(_ => gate.Task);
        var cts = new CancellationTokenSource();
        Task waiting = h.WaitAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.False(h.Token.IsCancellationRequested);
        gate.SetResult();
        await h.WaitAsync();
    });

    [Fact]
    public void WaitGroupGoCountsItsGoroutines()
    {
        int ran = 0;
        RunBounded(async () =>
        {
            var wg = new WaitGroup();
            for (int i = 0; i < 50; i++)
                wg.Go(async () => { await Yield(); Interlocked.Increment(ref ran); });
            await wg.WaitAsync();
            Assert.Equal(0, wg.Count);
        }, maxProcs: 2);
        Assert.Equal(50, ran);

        // As in Go, a body that throws ends the program; the group still counts it done.
        var group = new WaitGroup();
        var e = Assert.Throws<GoroutineFailedException>(() => Run(async () =>
        {
            group.Go(() => throw new FormatException());
            await group.WaitAsync();
        }, maxProcs: 1));
        Assert.IsType<FormatException>(e.InnerException);
    }

    [Fact]
    public void ATimerFiresOnceAndStopAndResetKeepGo123sPromise() => Bounded(async () =>
    {
        using var t = new SpindleTimer(TimeSpan.Zero);
        long fired = await t.C.ReceiveAsync();
        Assert.True(fired > 0);
        Assert.False(t.Stop()); // fired, and received
        Assert.False(t.Stop());

        using var later = new SpindleTimer(TimeSpan.FromHours(1));
        Assert.True(later.Stop()); // stopped before it fired
        Assert.False(later.Stop());
        Assert.False(later.Reset(TimeSpan.Zero)); // it was stopped
        await later.C.ReceiveAsync(); // and fires again

        // Fired into a value nobody received: Stop drops the value and says so.
        using var unread = new SpindleTimer(TimeSpan.Zero);
        for (int i = 0; unread.C.Count == 0; i++)
        {
            Assert.True(i < 20_000, "the timer never fired");
            await Task.Delay(1);
        }
        Assert.True(unread.Stop());
        Assert.Equal(0, unread.C.Count);
        Assert.False(unread.C.TryReceive(out _));
        Assert.False(unread.Reset(TimeSpan.Zero));
        for (int i = 0; unread.C.Count == 0; i++)
        {
            Assert.True(i < 20_000, "the reset timer never fired");
            await Task.Delay(1);
        }
        Assert.True(unread.Reset(TimeSpan.FromHours(1))); // the unread value goes with the reset
        Assert.Equal(0, unread.C.Count);
    });

    [Fact]
    public void TheMutexScopeUnlocksOnDispose()
    {
        var mu = new SpindleMutex();
        int inside = 0, most = 0;
        RunBounded(async () =>
        {
            var wg = new WaitGroup();
            for (int i = 0; i < 8; i++)
            {
                wg.Go(async () =>
                {
                    for (int j = 0; j < 100; j++)
                    {
                        using (await mu.LockScopeAsync())
                        {
                            int now = ++inside;
                            most = Math.Max(most, now);
                            await Yield();
                            inside--;
                        }
                    }
                });
            }
            await wg.WaitAsync();
        }, maxProcs: 2);
        Assert.Equal(1, most);
        Assert.True(mu.TryLock());
        mu.Unlock();
        Assert.Throws<InvalidOperationException>(() => default(SpindleMutex.Scope).Dispose());
    }

    [Fact]
    public void EveryAwaitableComposesWithWhenAllAndWhenAny()
    {
        bool anyWasTheValue = false;
        RunBounded(async () =>
        {
            var ch = new Chan<int>(1);
            var wg = new WaitGroup();
            var mu = new SpindleMutex();
            var g = new ErrGroup();
            g.Go(_ => Task.CompletedTask);
            var s = new Select();
            var ready = new Chan<int>(1);
            ready.TrySend(1);
            s.Receive(ready);
            var stream = new Chan<int>(1);
            stream.TrySend(2);
            Task sending = ch.SendAsync(3).AsTask();
            await Task.WhenAll(
                sending,
                wg.WaitAsync().AsTask(),
                mu.LockAsync().AsTask(),
                Sleep(TimeSpan.FromMilliseconds(1)).AsTask(),
                Yield().AsTask(),
                s.WaitAsync().AsTask(),
                g.WaitAsync(),
                stream.Reader.WaitToReadAsync().AsTask());
            mu.Unlock();
            var never = new Chan<int>();
            var cts = new CancellationTokenSource();
            Task<int> value = ch.ReceiveAsync().AsTask();
            Task<int> other = never.ReceiveAsync(cts.Token).AsTask();
            anyWasTheValue = await Task.WhenAny(value, other) == value && value.Result == 3;
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => other);
            Assert.True(other.IsCanceled);
        }, maxProcs: 2);
        Assert.True(anyWasTheValue);
    }

    [Fact]
    public void BadInputGetsItsDocumentedException()
    {
        var g = new ErrGroup();
        Assert.Throws<ArgumentNullException>(() => g.Go(null!));
        Assert.Throws<ArgumentNullException>(() => g.TryGo(null!));
        g.Dispose();
        Assert.True(g.Token.IsCancellationRequested);
        Assert.Throws<ObjectDisposedException>(() => g.Go(_ => Task.CompletedTask));
        Assert.Throws<ObjectDisposedException>(() => g.TryGo(_ => Task.CompletedTask));
        Assert.Throws<ObjectDisposedException>(() => g.SetLimit(1));
        g.Dispose(); // twice: nothing

        var wg = new WaitGroup();
        Assert.Throws<ArgumentNullException>(() => wg.Go(null!));
        Assert.Throws<InvalidOperationException>(() => wg.Go(() => Task.CompletedTask)); // no runtime
        Assert.Equal(0, wg.Count);

        var timer = new SpindleTimer(TimeSpan.FromHours(1));
        timer.Dispose();
        timer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => timer.Stop());
        Assert.Throws<ObjectDisposedException>(() => timer.Reset(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => timer.C.TryReceive(out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpindleTimer(TimeSpan.MaxValue));

        var ticker = new Ticker(TimeSpan.FromHours(1));
        ticker.Dispose();
        ticker.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ticker.C.TryReceive(out _));

        var ch = new Chan<int>();
        ch.ReleaseHandle();
        Bounded(async () =>
        {
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ch.SendAsync(1));
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ch.ReceiveAsync(new CancellationTokenSource().Token));
            var s = new Select();
            s.Receive(ch);
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await s.WaitAsync());
        });
        Assert.Throws<ObjectDisposedException>(() => ch.Receive(new CancellationTokenSource().Token));
    }
}
