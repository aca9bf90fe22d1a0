using Xunit;
using static Spindle.Runtime;

namespace Spindle.Tests;

/// <summary>Chan&lt;T&gt;, Select, SpindleMutex and timer channels from C#: managed
/// goroutines, plain threads, and both with native goroutines.</summary>
public class ChannelTests
{
    private struct Signal;

    [Fact]
    public void UnbufferedSendCompletesOnlyWhenAReceiverTakesIt()
    {
        var ch = new Chan<int>();
        bool sent = false;
        Run(async () =>
        {
            Go(async () =>
            {
                await ch.SendAsync(42);
                Volatile.Write(ref sent, true);
            });
            await Sleep(TimeSpan.FromMilliseconds(30));
            Assert.False(Volatile.Read(ref sent));
            Assert.Equal(42, await ch.ReceiveAsync());
            for (int i = 0; i < 1000 && !Volatile.Read(ref sent); i++)
                await Sleep(TimeSpan.FromMilliseconds(1));
            Assert.True(Volatile.Read(ref sent));
        }, maxProcs: 2);
    }

    [Fact]
    public void BufferedIsFifoAndClosedDrainsThenGivesZeroAndNotOk()
    {
        var ch = new Chan<long>(3);
        Assert.True(ch.TrySend(1) && ch.TrySend(2) && ch.TrySend(3));
        Assert.False(ch.TrySend(4)); // full
        Assert.Equal(3, ch.Count);
        Assert.Equal(3, ch.Capacity);
        ch.Close();
        Assert.Equal(1, ch.Receive(out bool ok));
        Assert.True(ok);
        Assert.True(ch.TryReceive(out long two) && two == 2);
        Run(async () =>
        {
            Assert.Equal(3, await ch.ReceiveAsync());
            var (value, more) = await ch.ReceiveOkAsync();
            Assert.Equal((0L, false), (value, more));
            Assert.Equal(0, await ch.ReceiveAsync()); // and again
        }, maxProcs: 1);
        Assert.Equal(0, ch.Receive(out ok));
        Assert.False(ok);
        Assert.True(ch.TryReceive(out _, out ok));
        Assert.False(ok);
    }

    [Fact]
    public void SendOnClosedAndCloseOfClosedThrowAndSendNothing()
    {
        var ch = new Chan<int>(2);
        ch.Send(7);
        ch.Close();
        Assert.Throws<ChannelClosedException>(() => ch.Send(8));
        Assert.Throws<ChannelClosedException>(() => ch.TrySend(8));
        Assert.Throws<ChannelClosedException>(() => ch.Close());
        Run(async () => await Assert.ThrowsAsync<ChannelClosedException>(async () => await ch.SendAsync(9)), maxProcs: 1);
        Assert.Equal(7, ch.Receive());
        Assert.False(ch.TryReceive(out _));
    }

    [Fact]
    public void CloseWakesParkedReceiversAndSenders()
    {
        var receivers = new Chan<int>();
        var senders = new Chan<int>();
        int zeroes = 0, refused = 0;
        Run(async () =>
        {
            var wg = new WaitGroup();
            wg.Add(6);
            for (int i = 0; i < 3; i++)
            {
                Go(async () =>
                {
                    var (v, ok) = await receivers.ReceiveOkAsync();
                    if (v == 0 && !ok) Interlocked.Increment(ref zeroes);
                    wg.Done();
                });
                Go(async () =>
                {
                    try { await senders.SendAsync(1); }
                    catch (ChannelClosedException) { Interlocked.Increment(ref refused); }
                    wg.Done();
                });
            }
            await Sleep(TimeSpan.FromMilliseconds(20));
            receivers.Close();
            senders.Close();
            await wg.WaitAsync();
        }, maxProcs: 2);
        Assert.Equal(3, zeroes);
        Assert.Equal(3, refused);
    }

    [Fact]
    public void PlainThreadsAndManagedGoroutinesShareAChannel()
    {
        const int n = 20_000;
        var ch = new Chan<int>();
        long sum = 0;
        var producer = new Thread(() =>
        {
            for (int i = 1; i <= n; i++)
                ch.Send(i);
            ch.Close();
        });
        producer.Start();
        Run(async () =>
        {
            await foreach (int v in ch.ReadAllAsync())
                sum += v;
        }, maxProcs: 2);
        producer.Join();
        Assert.Equal((long)n * (n + 1) / 2, sum);
    }

    [Fact]
    public void FifoPerSenderAcrossThreadsAndGoroutines()
    {
        const int senders = 4, each = 5000;
        var ch = new Chan<(int Sender, int Seq)>(5);
        var last = new int[senders];
        int received = 0;
        Run(async () =>
        {
            var wg = new WaitGroup();
            wg.Add(senders);
            for (int s = 0; s < senders; s++)
            {
                int id = s;
                if (id % 2 == 0)
                {
                    Go(async () =>
                    {
                        for (int i = 1; i <= each; i++)
                            await ch.SendAsync((id, i));
                        wg.Done();
                    });
                }
                else
                {
                    new Thread(() => { for (int i = 1; i <= each; i++) ch.Send((id, i)); wg.Done(); }).Start();
                }
            }
            Go(async () => { await wg.WaitAsync(); ch.Close(); });
            await foreach (var (sender, seq) in ch.ReadAllAsync())
            {
                Assert.True(seq == last[sender] + 1, $"sender {sender}: {seq} after {last[sender]}");
                last[sender] = seq;
                received++;
            }
        }, maxProcs: 4);
        Assert.Equal(senders * each, received);
    }

    [Fact]
    public void NativeGoroutinesSendToAManagedConsumer()
    {
        const int producers = 4, each = 2000;
        var ch = new Chan<long>(8);
        using var io = new NativeSlots((long)ch.Handle, producers, each, 0);
        long sum = 0, count = 0;
        Run(async () =>
        {
            Go(TestPrograms.Get("tp_produce_into"), io.Address);
            while (count < producers * each)
            {
                sum += await ch.ReceiveAsync();
                count++;
            }
        }, maxProcs: 2);
        Assert.Equal(0, io[3]);
        Assert.Equal(producers * (long)each * (each + 1) / 2, sum);
        ch.ReleaseHandle();
        Assert.Throws<ObjectDisposedException>(() => ch.Handle);
    }

    [Fact]
    public void SignalChannelsCarryNoBytes()
    {
        var done = new Chan<Signal>();
        var buffered = new Chan<Signal>(2);
        Run(async () =>
        {
            for (int i = 0; i < 3; i++)
                Go(async () => await done.SendAsync(default));
            for (int i = 0; i < 3; i++)
                await done.ReceiveAsync();
            Assert.True(buffered.TrySend(default) && buffered.TrySend(default) && !buffered.TrySend(default));
            buffered.Close();
            Assert.True((await buffered.ReceiveOkAsync()).Ok);
            Assert.True((await buffered.ReceiveOkAsync()).Ok);
            Assert.False((await buffered.ReceiveOkAsync()).Ok);
        }, maxProcs: 2);
    }

    [Fact]
    public void SelectPerformsTheReadyCaseOrDefaultOrTimeout()
    {
        var a = new Chan<int>(1);
        var b = new Chan<int>(1);
        var s = new Select();
        int ra = s.Receive(a), rb = s.Receive(b), rnil = s.Receive<int>(null);
        Assert.Equal(-1, s.Poll()); // nothing ready: the default case
        b.Send(5);
        Assert.Equal(rb, s.Poll());
        Assert.Equal(5, s.Value<int>(rb));
        Assert.True(s.Ok(rb));
        var send = new Select();
        int sa = send.Send(a, 9);
        Assert.Equal(sa, send.Poll());
        Assert.Equal(-1, send.Poll()); // a is full now
        Assert.Equal(9, a.Receive());
        Run(async () =>
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            Assert.Equal(-1, await s.WaitAsync(TimeSpan.FromMilliseconds(20)));
            Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(20));
            Assert.Equal(3, s.Count); // the timer case is gone again
            Go(async () => { await Sleep(TimeSpan.FromMilliseconds(5)); await a.SendAsync(1); });
            Assert.Equal(ra, await s.WaitAsync());
            Assert.Equal(1, s.Value<int>(ra));
            a.Close();
            Assert.Equal(ra, await s.WaitAsync());
            Assert.False(s.Ok(ra));
        }, maxProcs: 2);
        _ = rnil;
        var closedSend = new Select();
        closedSend.Send(a, 1);
        Assert.Throws<ChannelClosedException>(() => closedSend.Poll());
    }

    [Fact]
    public void SelectChoosesUniformlyAmongReadyCases()
    {
        const int rounds = 100_000;
        var a = new Chan<int>(1);
        var b = new Chan<int>(1);
        a.Send(1);
        b.Send(1);
        var s = new Select();
        int ra = s.Receive(a);
        s.Receive(b);
        int fromA = 0;
        for (int i = 0; i < rounds; i++)
        {
            int chosen = s.Poll();
            if (chosen == ra) { fromA++; a.Send(1); } else b.Send(1);
        }
        // Binomial(100000, 1/2): 8 standard deviations, passed by chance about 1e-15.
        Assert.InRange(fromA, rounds / 2 - 1265, rounds / 2 + 1265);
    }

    [Fact]
    public void SelectFromAPlainThreadWaits()
    {
        var ch = new Chan<int>();
        var s = new Select();
        int r = s.Receive(ch);
        var t = new Thread(() => { Thread.Sleep(10); ch.Send(3); });
        t.Start();
        Assert.Equal(r, s.Wait());
        Assert.Equal(3, s.Value<int>(r));
        t.Join();
    }

    [Fact]
    public void MutexExcludesGoroutinesAndThreads()
    {
        var mu = new SpindleMutex();
        long counter = 0;
        var thread = new Thread(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                mu.Lock();
                long c = counter;
                Thread.SpinWait(20);
                counter = c + 1;
                mu.Unlock();
            }
        });
        thread.Start();
        Run(async () =>
        {
            var wg = new WaitGroup();
            wg.Add(4);
            for (int g = 0; g < 4; g++)
            {
                Go(async () =>
                {
                    for (int i = 0; i < 500; i++)
                    {
                        await mu.LockAsync();
                        long c = counter;
                        await Yield();
                        counter = c + 1;
                        mu.Unlock();
                    }
                    wg.Done();
                });
            }
            await wg.WaitAsync();
        }, maxProcs: 2);
        thread.Join();
        Assert.Equal(4000, counter);
        Assert.True(mu.TryLock());
        Assert.False(mu.TryLock());
        mu.Unlock();
        Assert.Throws<InvalidOperationException>(() => mu.Unlock());
    }

    [Fact]
    public void TimerChannelsAndTickers()
    {
        Run(async () =>
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            long at = await Chan.After(TimeSpan.FromMilliseconds(15)).ReceiveAsync();
            Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(15));
            Assert.True(at > 0);
            var ticker = new Ticker(TimeSpan.FromMilliseconds(5));
            long previous = 0;
            for (int i = 0; i < 3; i++)
            {
                long tick = await ticker.C.ReceiveAsync();
                Assert.True(tick > previous);
                previous = tick;
            }
            ticker.Stop();
            ticker.C.TryReceive(out _);
            await Sleep(TimeSpan.FromMilliseconds(25));
            Assert.False(ticker.C.TryReceive(out _));
        }, maxProcs: 1);
        // Outside a runtime, a .NET timer drives it.
        Assert.True(Chan.After(TimeSpan.FromMilliseconds(5)).Receive() > 0);
    }

    private struct Huge
    {
#pragma warning disable CS0649 // only its size matters
        public unsafe fixed byte Bytes[70_000];
#pragma warning restore CS0649
    }

    [Fact]
    public void BadInputThrowsClearly()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Chan<int>(-1));
        Assert.Throws<ArgumentException>(() => new Chan<Huge>());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Chan<long>(int.MaxValue));
        // A number that is no channel's handle, a handle of another kind, a stale one.
        Assert.Throws<ArgumentException>(() => Chan<int>.FromHandle(0xFFFF_FFFF_7FFF_0000));
        Assert.Throws<ArgumentException>(() => SpindleMutex.FromHandle(0));
        Assert.Throws<ArgumentException>(() => SpindleMutex.FromHandle(new Chan<int>().Handle));
        Assert.Throws<ArgumentException>(() => Chan<int>.FromHandle(new WaitGroup().Handle));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ticker(TimeSpan.Zero));
        var ch = new Chan<int>();
        Run(async () =>
        {
            // A blocking call on a worker would stall every goroutine there.
            Assert.Throws<InvalidOperationException>(() => ch.Send(1));
            Assert.Throws<InvalidOperationException>(() => new Select().Wait());
            await Task.CompletedTask;
        }, maxProcs: 1);
        // A handle of another element size is refused.
        var longs = new Chan<long>();
        Assert.Throws<ArgumentException>(() => Chan<int>.FromHandle(longs.Handle));
        ulong handle = longs.Handle;
        longs.ReleaseHandle();
        Assert.Throws<ObjectDisposedException>(() => Chan<long>.FromHandle(handle));
    }
}
