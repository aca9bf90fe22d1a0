using System.Collections.Concurrent;
using Xunit;
using static Spindle.Runtime;

namespace Spindle.Tests;

/// <summary>Cancellation of every wait: a cancelled receive takes no value, a cancelled send
/// sends nothing, a cancelled select performs no case, and the waiter leaves every queue it
/// joined (the engine's own count of a channel's waiters says so); a cancellation that loses
/// to a completion leaves the completion standing. Under stress, with tokens cancelled at
/// random by other threads, every value sent is received exactly once or returned to its
/// sender.</summary>
public class CancellationTests
{
    internal static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>Runs a runtime on a thread of its own, so that a wait nothing ends fails
    /// the test after the deadline instead of hanging the suite.</summary>
    internal static void RunBounded(Func<Task> main, int maxProcs)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { Run(main, maxProcs); }
            catch (Exception e) { error = e; }
        }) { IsBackground = true, Name = "bounded runtime" };
        thread.Start();
        Assert.True(thread.Join(Deadline), $"the runtime did not return within {Deadline.TotalSeconds} s");
        if (error is not null)
            throw new Xunit.Sdk.XunitException($"the runtime failed: {error}");
    }

    /// <summary>Async code outside a runtime, with the same deadline.</summary>
    internal static void Bounded(Func<Task> body) =>
        Assert.True(Task.Run(body).Wait(Deadline), $"did not finish within {Deadline.TotalSeconds} s");

    internal static (int Senders, int Receivers, bool Closed) Queues<T>(Chan<T> ch) where T : unmanaged
    {
        int closed = ch.Waiters(out int senders, out int receivers);
        Assert.True(closed >= 0, $"sp_host_chan_waiters: {closed}");
        return (senders, receivers, closed == 1);
    }

    /// <summary>Threads that cancel the newest sources handed to them, racing with whatever
    /// the token's wait is doing then: starting, parked, or being completed.</summary>
    private sealed class Cancellers : IDisposable
    {
        private readonly CancellationTokenSource?[] _slots = new CancellationTokenSource?[16];
        private readonly Thread[] _threads;
        private volatile bool _stop;

        public Cancellers(int threads)
        {
            _threads = new Thread[threads];
            for (int i = 0; i < threads; i++)
            {
                _threads[i] = new Thread(() =>
                {
                    while (!_stop)
                    {
                        int slot = Random.Shared.Next(_slots.Length);
                        if (Interlocked.Exchange(ref _slots[slot], null) is { } cts)
                            cts.Cancel();
                        else
                            Thread.SpinWait(20);
                    }
                }) { IsBackground = true };
                _threads[i].Start();
            }
        }

        /// <summary>A token for one wait: none, one already cancelled, or one a canceller
        /// thread may cancel soon (a newer one may take its place first).</summary>
        public CancellationToken Next()
        {
            switch (Random.Shared.Next(8))
            {
                case 0:
                    return new CancellationToken(canceled: true);
                case 1 or 2 or 3:
                    return default;
                default:
                    var cts = new CancellationTokenSource();
                    Volatile.Write(ref _slots[Random.Shared.Next(_slots.Length)], cts);
                    return cts.Token;
            }
        }

        public void Dispose()
        {
            _stop = true;
            foreach (Thread t in _threads)
                t.Join();
        }
    }

    private const int Unsent = 0, Sent = 1, Returned = 2;

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(4, 0)]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(4, 8)]
    public void TokensCancelledAtRandomNeitherLoseNorDuplicateAValue(int maxProcs, int capacity)
    {
        const int managedSenders = 3, threadSenders = 2, selectSenders = 1, each = 4000;
        const int managedReceivers = 2, threadReceivers = 2, selectReceivers = 2;
        const int total = (managedSenders + threadSenders + selectSenders) * each;
        var fate = new int[total];
        var received = new int[total];
        var ch = new Chan<int>(capacity);
        var threads = new List<Thread>();
        (int, int, bool) left = default;
        using var cancellers = new Cancellers(2);

        var problems = new ConcurrentQueue<string>();
        void Take(int v) => Interlocked.Increment(ref received[v]);
        // Plain threads cannot throw (it would end the test host): what is wrong is kept.
        void Check(bool condition, string problem)
        {
            if (!condition)
                problems.Enqueue(problem);
        }

        RunBounded(async () =>
        {
            var sending = new WaitGroup();
            var receiving = new WaitGroup();
            int first = 0;
            for (int s = 0; s < managedSenders; s++, first += each)
            {
                int from = first;
                sending.Go(async () =>
                {
                    for (int v = from; v < from + each; v++)
                    {
                        CancellationToken t = cancellers.Next();
                        try
                        {
                            await ch.SendAsync(v, t);
                            fate[v] = Sent;
                        }
                        catch (OperationCanceledException e) when (e.CancellationToken == t)
                        {
                            Check(t.IsCancellationRequested, "cancelled by a token nobody cancelled");
                            fate[v] = Returned;
                        }
                    }
                });
            }
            for (int s = 0; s < selectSenders; s++, first += each)
            {
                int from = first;
                sending.Go(async () =>
                {
                    for (int v = from; v < from + each; v++)
                    {
                        // A send case beside a token case, and the wait's own token.
                        var sel = new Select();
                        int send = sel.Send(ch, v);
                        CancellationToken done = cancellers.Next(), t = cancellers.Next();
                        sel.Receive(done);
                        try
                        {
                            bool went = await sel.WaitAsync(t) == send;
                            Check(went || done.IsCancellationRequested, "a token case chosen before its token was cancelled");
                            fate[v] = went ? Sent : Returned;
                        }
                        catch (OperationCanceledException e) when (e.CancellationToken == t)
                        {
                            Check(t.IsCancellationRequested, "cancelled by a token nobody cancelled");
                            fate[v] = Returned;
                        }
                    }
                });
            }
            for (int s = 0; s < threadSenders; s++, first += each)
            {
                int from = first;
                sending.Add(1);
                threads.Add(new Thread(() =>
                {
                    for (int v = from; v < from + each; v++)
                    {
                        CancellationToken t = cancellers.Next();
                        try
                        {
                            ch.Send(v, t);
                            fate[v] = Sent;
                        }
                        catch (OperationCanceledException e) when (e.CancellationToken == t)
                        {
                            Check(t.IsCancellationRequested, "cancelled by a token nobody cancelled");
                            fate[v] = Returned;
                        }
                    }
                    sending.Done();
                }));
            }
            for (int r = 0; r < managedReceivers; r++)
            {
                receiving.Go(async () =>
                {
                    while (true)
                    {
                        CancellationToken t = cancellers.Next();
                        try
                        {
                            (int v, bool ok) = await ch.ReceiveOkAsync(t);
                            if (!ok)
                                return;
                            Take(v);
                        }
                        catch (OperationCanceledException e) when (e.CancellationToken == t)
                        {
                            Check(t.IsCancellationRequested, "cancelled by a token nobody cancelled");
                        }
                    }
                });
            }
            for (int r = 0; r < selectReceivers; r++)
            {
                receiving.Go(async () =>
                {
                    while (true)
                    {
                        var sel = new Select();
                        int got = sel.Receive(ch);
                        CancellationToken done = cancellers.Next(), t = cancellers.Next();
                        sel.Receive(done);
                        try
                        {
                            if (await sel.WaitAsync(t) != got)
                            {
                                Check(done.IsCancellationRequested, "a token case chosen before its token was cancelled");
                                continue;
                            }
                            if (!sel.Ok(got))
                                return;
                            Take(sel.Value<int>(got));
                        }
                        catch (OperationCanceledException e) when (e.CancellationToken == t)
                        {
                            Check(t.IsCancellationRequested, "cancelled by a token nobody cancelled");
                        }
                    }
                });
            }
            for (int r = 0; r < threadReceivers; r++)
            {
                receiving.Add(1);
                threads.Add(new Thread(() =>
                {
                    while (true)
                    {
                        CancellationToken t = cancellers.Next();
                        try
                        {
                            int v = ch.Receive(out bool ok, t);
                            if (!ok)
                                break;
                            Take(v);
                        }
                        catch (OperationCanceledException e) when (e.CancellationToken == t)
                        {
                            Check(t.IsCancellationRequested, "cancelled by a token nobody cancelled");
                        }
                    }
                    receiving.Done();
                }));
            }
            foreach (Thread t in threads)
                t.Start();
            await sending.WaitAsync();
            ch.Close();
            await receiving.WaitAsync();
            left = Queues(ch);
        }, maxProcs);

        foreach (Thread t in threads)
            Assert.True(t.Join(Deadline));
        Assert.Empty(problems);
        // Nothing is left queued: the channel can go, and no one is woken by its release.
        Assert.Equal((0, 0, true), left);
        ch.ReleaseHandle();
        int sent = 0, returned = 0;
        for (int v = 0; v < total; v++)
        {
            Assert.True(fate[v] != Unsent, $"value {v} was never sent nor returned");
            int expected = fate[v] == Sent ? 1 : 0;
            Assert.True(received[v] == expected,
                $"value {v} ({(fate[v] == Sent ? "sent" : "returned to its sender")}) was received {received[v]} times");
            if (fate[v] == Sent)
                sent++;
            else
                returned++;
        }
        Assert.True(sent > 0 && returned > 0, $"{sent} sent, {returned} returned: the run did not exercise both");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void ACancelledReceiveTakesNoValueAndLeavesTheQueue(int capacity)
    {
        var ch = new Chan<int>(capacity);
        RunBounded(async () =>
        {
            var cts = new CancellationTokenSource();
            ValueTask<int> receive = ch.ReceiveAsync(cts.Token);
            Assert.False(receive.IsCompleted);
            Assert.Equal((0, 1, false), Queues(ch));
            Go(async () => { cts.Cancel(); await Task.CompletedTask; });
            var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await receive);
            Assert.Equal(cts.Token, e.CancellationToken);
            Assert.Equal((0, 0, false), Queues(ch));
            // No receiver waits any more: an unbuffered send finds none, a buffered one stays.
            Assert.Equal(capacity > 0, ch.TrySend(5));
            Assert.Equal(capacity, ch.Count);
        }, maxProcs: 2);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void ACancelledSendSendsNothingAndLeavesTheQueue(int capacity)
    {
        var ch = new Chan<int>(capacity);
        for (int i = 0; i < capacity; i++)
            Assert.True(ch.TrySend(-1)); // full
        RunBounded(async () =>
        {
            var cts = new CancellationTokenSource();
            ValueTask send = ch.SendAsync(7, cts.Token);
            Assert.False(send.IsCompleted);
            Assert.Equal((1, 0, false), Queues(ch));
            var thread = new Thread(cts.Cancel);
            thread.Start();
            var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await send);
            thread.Join();
            Assert.Equal(cts.Token, e.CancellationToken);
            Assert.Equal((0, 0, false), Queues(ch));
            for (int i = 0; i < capacity; i++)
                Assert.Equal(-1, await ch.ReceiveAsync());
            Assert.False(ch.TryReceive(out _)); // 7 never went
        }, maxProcs: 1);
    }

    [Fact]
    public void ASelectCancelledByItsTokenPerformsNoCase()
    {
        var inbox = new Chan<int>();
        var outbox = new Chan<int>();
        RunBounded(async () =>
        {
            var cts = new CancellationTokenSource();
            var s = new Select();
            s.Receive(inbox);
            s.Send(outbox, 9);
            ValueTask<int> wait = s.WaitAsync(cts.Token);
            Assert.False(wait.IsCompleted);
            Assert.Equal((0, 1, false), Queues(inbox));
            Assert.Equal((1, 0, false), Queues(outbox));
            cts.Cancel();
            var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
            Assert.Equal(cts.Token, e.CancellationToken);
            // Out of both queues: nobody takes a value from inbox, nobody offers one on outbox.
            Assert.Equal((0, 0, false), Queues(inbox));
            Assert.Equal((0, 0, false), Queues(outbox));
            Assert.False(inbox.TrySend(1));
            Assert.False(outbox.TryReceive(out _));
            // The same select waits again, and performs a case then.
            Go(() => inbox.SendAsync(4).AsTask());
            int chosen = await s.WaitAsync();
            Assert.Equal(0, chosen);
            Assert.Equal(4, s.Value<int>(0));
        }, maxProcs: 2);
    }

    [Fact]
    public void ASelectWhoseTokenIsAlreadyCancelledDoesNotParkNorTakeAReadyValue()
    {
        var ready = new Chan<int>(1);
        Assert.True(ready.TrySend(3));
        RunBounded(async () =>
        {
            var s = new Select();
            s.Receive(ready);
            var cancelled = new CancellationToken(canceled: true);
            ValueTask<int> wait = s.WaitAsync(cancelled);
            Assert.True(wait.IsCanceled); // at once: nothing parked
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await s.WaitAsync(TimeSpan.FromHours(1), cancelled));
            Assert.Equal(1, s.Count); // the timer case of the timed wait was not added
            Assert.Equal(1, ready.Count);
            Assert.Equal((0, 0, false), Queues(ready));
        }, maxProcs: 1);
        var t = new Select();
        t.Receive(ready);
        Assert.Throws<OperationCanceledException>(() => t.Wait(new CancellationToken(canceled: true)));
        Assert.Equal(1, ready.Count);
    }

    [Fact]
    public void ATokenCaseIsGosCtxDoneCase()
    {
        var never = new Chan<int>();
        var ready = new Chan<int>(1);
        RunBounded(async () =>
        {
            var cts = new CancellationTokenSource();
            var s = new Select();
            int got = s.Receive(never), done = s.Receive(cts.Token);
            ValueTask<int> wait = s.WaitAsync();
            Assert.False(wait.IsCompleted);
            Go(async () => { cts.Cancel(); await Task.CompletedTask; });
            Assert.Equal(done, await wait); // an answer, not an exception
            Assert.False(s.Ok(done));
            Assert.Equal((0, 0, false), Queues(never));
            _ = got;

            // Already cancelled: chosen at once, before a ready channel case is tried.
            Assert.True(ready.TrySend(8));
            var t = new Select();
            t.Receive(ready);
            int late = t.Receive(cts.Token);
            ValueTask<int> at = t.WaitAsync();
            Assert.True(at.IsCompletedSuccessfully);
            Assert.Equal(late, await at);
            Assert.Equal(late, t.Poll());
            Assert.Equal(1, ready.Count);

            // A token case alone, and one of a token that can never be cancelled: the
            // first waits for its token, the second is never ready.
            var u = new Select();
            var later = new CancellationTokenSource();
            u.Receive(CancellationToken.None);
            int mine = u.Receive(later.Token);
            Assert.Equal(-1, u.Poll());
            ValueTask<int> waiting = u.WaitAsync();
            later.Cancel();
            Assert.Equal(mine, await waiting);
        }, maxProcs: 2);
    }

    [Fact]
    public void AWaitIsEndedOnlyByItsOwnTokensNotByAnEarlierWaits()
    {
        // Parties keep a token's registration from one wait to the next with that token:
        // a later wait with another token, or none, must not be ended by the first.
        var ch = new Chan<int>(1);
        RunBounded(async () =>
        {
            var first = new CancellationTokenSource();
            var second = new CancellationTokenSource();
            var caseToken = new CancellationTokenSource();
            var s = new Select();
            int got = s.Receive(ch), done = s.Receive(caseToken.Token);
            Go(() => ch.SendAsync(1).AsTask());
            Assert.Equal(got, await s.WaitAsync(first.Token));
            ValueTask<int> untokened = s.WaitAsync();
            first.Cancel();
            Assert.False(untokened.IsCompleted);
            caseToken.Cancel();
            Assert.Equal(done, await untokened);

            var again = new CancellationTokenSource();
            Go(() => ch.SendAsync(2).AsTask());
            Assert.Equal(2, await ch.ReceiveAsync(again.Token));
            ValueTask<int> other = ch.ReceiveAsync(second.Token); // often the same pooled party
            ValueTask<int> none = ch.ReceiveAsync();
            again.Cancel();
            Assert.False(other.IsCompleted || none.IsCompleted);
            second.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await other);
            Assert.True(ch.TrySend(3));
            Assert.Equal(3, await none);
        }, maxProcs: 1);
    }

    [Fact]
    public void SteadyStateWaitsWithOneTokenAllocateNothing()
    {
        // A loop that passes one token to every receive registers on it once per pooled
        // party: afterwards the round trips allocate nothing, as they do without a token.
        for (int attempt = 1; ; attempt++)
        {
            long bytes = -1;
            int threadBefore = -1, threadAfter = -2;
            var ping = new Chan<long>();
            var pong = new Chan<long>();
            using var cts = new CancellationTokenSource();
            CancellationToken token = cts.Token;
            Run(async () =>
            {
                const int warmUp = 3000, rounds = 20_000;
                Go(async () =>
                {
                    for (int i = 0; i < warmUp + rounds; i++)
                        await pong.SendAsync(await ping.ReceiveAsync(token), token);
                });
                long v = 0;
                for (int i = 0; i < warmUp; i++)
                {
                    await ping.SendAsync(v, token);
                    v = await pong.ReceiveAsync(token);
                }
                threadBefore = Environment.CurrentManagedThreadId;
                long start = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < rounds; i++)
                {
                    await ping.SendAsync(v, token);
                    v = await pong.ReceiveAsync(token);
                }
                bytes = GC.GetAllocatedBytesForCurrentThread() - start;
                threadAfter = Environment.CurrentManagedThreadId;
            }, maxProcs: 1);
            // A loaded machine may hand the processor to another worker meanwhile: again.
            if (threadBefore != threadAfter && attempt < 3)
                continue;
            Assert.Equal(threadBefore, threadAfter);
            Assert.Equal(0, bytes);
            return;
        }
    }

    [Fact]
    public void ThreadsBlockedWithATokenAreWokenByItAndLeaveTheQueue()
    {
        var ch = new Chan<int>();
        var mu = new SpindleMutex();
        var wg = new WaitGroup();
        mu.Lock();
        wg.Add(1);
        var waits = new (string Name, Action<CancellationToken> Wait, Func<bool> Queued)[]
        {
            ("Chan.Receive", t => ch.Receive(t), () => Queues(ch).Receivers == 1),
            ("Chan.Send", t => ch.Send(1, t), () => Queues(ch).Senders == 1),
            ("Select.Wait", t => { var s = new Select(); s.Receive(ch); s.Wait(t); }, () => Queues(ch).Receivers == 1),
            ("Select.Wait on a token case", t => { var s = new Select(); s.Receive(ch); Assert.Equal(1, s.Receive(t)); Assert.Equal(1, s.Wait()); },
                () => Queues(ch).Receivers == 1),
            ("SpindleMutex.Lock", t => mu.Lock(t), () => true),
            ("WaitGroup.Wait", t => wg.Wait(t), () => true),
        };
        foreach (var (name, wait, queued) in waits)
        {
            var cts = new CancellationTokenSource();
            Exception? thrown = null;
            bool returned = false;
            var thread = new Thread(() =>
            {
                try
                {
                    wait(cts.Token);
                    returned = true;
                }
                catch (Exception e)
                {
                    thrown = e;
                }
            });
            thread.Start();
            for (int i = 0; !queued(); i++)
            {
                Assert.True(i < 20_000, $"{name}: the thread never queued");
                Thread.Sleep(1);
            }
            cts.Cancel();
            Assert.True(thread.Join(Deadline), $"{name}: the cancelled thread did not wake");
            if (name.Contains("token case"))
            {
                Assert.True(returned, $"{name}: {thrown}");
            }
            else
            {
                var e = Assert.IsAssignableFrom<OperationCanceledException>(thrown);
                Assert.Equal(cts.Token, e.CancellationToken);
            }
            Assert.Equal((0, 0, false), Queues(ch));
        }
        // The mutex and the wait group kept no waiter: the mutex is still the first
        // locker's, and the counter still 1.
        Assert.False(mu.TryLock());
        mu.Unlock();
        Assert.True(mu.TryLock());
        Assert.Equal(1, wg.Count);
    }

    [Fact]
    public void ALockHandedOverAsTheTokenIsCancelledIsEitherHeldOrNeverTaken()
    {
        var mu = new SpindleMutex();
        int acquired = 0, cancelled = 0;
        Bounded(async () =>
        {
            for (int round = 0; round < 400; round++)
            {
                mu.Lock();
                var cts = new CancellationTokenSource();
                Task locking = mu.LockAsync(cts.Token).AsTask();
                using var start = new Barrier(2);
                var unlocker = new Thread(() => { start.SignalAndWait(); mu.Unlock(); });
                var canceller = new Thread(() => { start.SignalAndWait(); cts.Cancel(); });
                unlocker.Start();
                canceller.Start();
                unlocker.Join();
                canceller.Join();
                try
                {
                    await locking;
                    acquired++;
                    Assert.False(mu.TryLock()); // it is this waiter's: the completion stood
                }
                catch (OperationCanceledException e) when (e.CancellationToken == cts.Token)
                {
                    cancelled++;
                    Assert.True(mu.TryLock()); // nobody holds it: the waiter never took it
                }
                mu.Unlock();
            }
        });
        Assert.Equal(400, acquired + cancelled);
    }

    [Fact]
    public void WaitGroupWaitsAndSleepsEndWithTheirTokens()
    {
        var wg = new WaitGroup();
        wg.Add(1);
        RunBounded(async () =>
        {
            var cts = new CancellationTokenSource();
            ValueTask waiting = wg.WaitAsync(cts.Token);
            ValueTask sleeping = Sleep(TimeSpan.FromHours(1), cts.Token);
            ValueTask forever = Sleep(Timeout.InfiniteTimeSpan, cts.Token);
            Assert.False(waiting.IsCompleted || sleeping.IsCompleted || forever.IsCompleted);
            Go(async () => { cts.Cancel(); await Task.CompletedTask; });
            foreach (ValueTask wait in new[] { waiting, sleeping, forever })
            {
                var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
                Assert.Equal(cts.Token, e.CancellationToken);
            }
            Assert.Equal(1, wg.Count);
            // The group's next waiter is the only one woken at zero.
            ValueTask next = wg.WaitAsync();
            wg.Done();
            await next;
        }, maxProcs: 1);
        // Outside a goroutine a sleep is a Task.Delay with the token.
        Bounded(async () =>
        {
            var cts = new CancellationTokenSource();
            ValueTask sleeping = Sleep(TimeSpan.FromHours(1), cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await sleeping);
        });
    }

    [Fact]
    public void ATokenAlreadyCancelledEndsEveryWaitAtOnceAndPerformsNothing()
    {
        var ch = new Chan<int>(1);
        var empty = new Chan<int>(1);
        var mu = new SpindleMutex();
        var wg = new WaitGroup();
        var cts = new CancellationTokenSource();
        cts.Cancel();
        CancellationToken c = cts.Token;
        Assert.True(ch.TrySend(1));
        RunBounded(async () =>
        {
            var s = new Select();
            s.Receive(ch);
            var waits = new (string Name, Func<ValueTask> Start)[]
            {
                ("SendAsync", () => empty.SendAsync(2, c)),
                ("ReceiveAsync", async () => await ch.ReceiveAsync(c)),
                ("ReceiveOkAsync", async () => await ch.ReceiveOkAsync(c)),
                ("Select.WaitAsync", async () => await s.WaitAsync(c)),
                ("WaitGroup.WaitAsync", () => wg.WaitAsync(c)),
                ("SpindleMutex.LockAsync", () => mu.LockAsync(c)),
                ("SpindleMutex.LockScopeAsync", async () => await mu.LockScopeAsync(c)),
                ("Sleep", () => Sleep(TimeSpan.FromMilliseconds(1), c)),
                ("Sleep(0)", () => Sleep(TimeSpan.Zero, c)),
                ("ReadAllAsync", async () => { await foreach (int v in ch.ReadAllAsync(c)) { } }),
                ("Reader.ReadAsync", async () => await ch.Reader.ReadAsync(c)),
                ("Reader.WaitToReadAsync", async () => await ch.Reader.WaitToReadAsync(c)),
                ("Writer.WriteAsync", () => empty.Writer.WriteAsync(2, c)),
                ("Writer.WaitToWriteAsync", async () => await empty.Writer.WaitToWriteAsync(c)),
            };
            foreach (var (name, start) in waits)
            {
                ValueTask wait = start();
                Assert.True(wait.IsCompleted, $"{name} waited");
                var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
                Assert.True(e.CancellationToken == c, $"{name}: the exception does not carry the token");
            }
        }, maxProcs: 1);
        // Nothing was performed: the value is still there, nothing was sent, nothing locked.
        Assert.Equal(1, ch.Count);
        Assert.Equal(0, empty.Count);
        Assert.True(mu.TryLock());
        foreach (Action blocking in new Action[] { () => ch.Receive(c), () => empty.Send(2, c), () => mu.Lock(c), () => wg.Wait(c) })
            Assert.Equal(c, Assert.ThrowsAny<OperationCanceledException>(blocking).CancellationToken);
        Assert.Equal(1, ch.Count);
        Assert.Equal(0, empty.Count);
    }
}
