using Xunit;
using static Spindle.Runtime;
using static Spindle.Tests.CancellationTests;

namespace Spindle.Tests;

/// <summary>Pooled waits that are used again after a cancellation, a reset token, a close
/// that races a cancelled look-ahead, and callbacks of user code that fail: the cases where
/// state kept from one wait must not leak into the next.</summary>
public class CancellationReuseTests
{
    [Fact]
    public void AWaitWithATokenWhoseSourceWasResetCanStillBeCancelled()
    {
        // TryReset unregisters every callback but keeps the source: a registration kept
        // from the first wait for the second, equal token would be gone.
        var ch = new Chan<long>();
        using var cts = new CancellationTokenSource();
        RunBounded(async () =>
        {
            for (int round = 0; round < 3; round++)
            {
                long value = round;
                Go(async () => await ch.SendAsync(value));
                Assert.Equal(value, await ch.ReceiveAsync(cts.Token)); // parks, then a send ends it
                Assert.True(cts.TryReset());
            }
            Task<long> pending = ch.ReceiveAsync(cts.Token).AsTask(); // the same pooled party
            var canceller = new Thread(() => { Thread.Sleep(20); cts.Cancel(); });
            canceller.Start();
            OperationCanceledException e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
            Assert.Equal(cts.Token, e.CancellationToken);
            canceller.Join();
        }, maxProcs: 1);
        Assert.Equal((0, 0, false), Queues(ch));
    }

    [Fact]
    public void OneSelectCancelledTwiceOnAPlainThreadThrowsOnlyForItsWaiter()
    {
        var ch = new Chan<long>();
        var s = new Select();
        s.Receive(ch);
        for (int round = 0; round < 3; round++)
        {
            using var cts = new CancellationTokenSource();
            Exception? cancelFailed = null;
            var canceller = new Thread(() =>
            {
                Thread.Sleep(20);
                try { cts.Cancel(); }
                catch (Exception e) { cancelFailed = e; } // a callback of the select threw
            });
            canceller.Start();
            OperationCanceledException e = Assert.ThrowsAny<OperationCanceledException>(() => s.Wait(cts.Token));
            Assert.Equal(cts.Token, e.CancellationToken);
            canceller.Join();
            Assert.Null(cancelFailed);
        }
        Assert.Equal((0, 0, false), Queues(ch));
    }

    [Fact]
    public void ACloseWhileACancelledLookAheadEndsStillCompletesTheReader()
    {
        var ch = new Chan<long>();
        RunBounded(async () =>
        {
            using var cts = new CancellationTokenSource();
            // Parks: a look-ahead receive is in flight.
            Task<bool> waiting = ch.Reader.WaitToReadAsync(cts.Token).AsTask();
            // The cancel claims the wait, whose continuation runs after this step; the close
            // comes first and leaves Completion to the look-ahead as it ends.
            cts.Cancel();
            ch.Writer.Complete();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
            await ch.Reader.Completion.WaitAsync(Deadline);
        }, maxProcs: 1);
    }

    [Fact]
    public void ACallbackThatThrowsOnTheGroupsTokenLeavesTheFirstErrorTheGroups()
    {
        RunBounded(async () =>
        {
            using var g = new ErrGroup();
            g.Token.Register(() => throw new InvalidOperationException("a user's callback"));
            g.Go(_ => Task.FromException(new ArithmeticException("the first error")));
            ArithmeticException e = await Assert.ThrowsAsync<ArithmeticException>(() => g.WaitAsync());
            Assert.Equal("the first error", e.Message);
        }, maxProcs: 1);
    }

    [Fact]
    public void ATimerWhoseChannelWasClosedFiresIntoNothing()
    {
        // Go's Timer.C is receive-only; here user code can close it. The timer's own thread
        // must not throw then (an exception there ends the process).
        using var t = new SpindleTimer(TimeSpan.FromMilliseconds(5));
        t.C.Close();
        // Until it has fired, however late the thread pool runs it (a fixed 100 ms sleep
        // was not always enough on a loaded machine).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (t.Active && DateTime.UtcNow < deadline)
            Thread.Sleep(5);
        Assert.False(t.Active, "the timer never fired");
        Assert.False(t.Stop()); // it fired: there was nothing to stop
    }
}
