using Xunit;
using static Spindle.Runtime;

namespace Spindle.Tests;

/// <summary>The native engine as every kind of party meets it: native goroutines, managed
/// goroutines and plain threads on one channel; managed goroutines woken by native code on a
/// goroutine stack and by threads; native goroutines that do everything without a runtime
/// call; what a deadlock dump says (native/tests/goroutines/reliability_programs.c).</summary>
public class EngineTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static void AssertNoFailedCheck(long failed, long line) =>
        Assert.True(failed == 0, $"{failed} checks failed, the first at reliability_programs.c line {line}");

    private static long Values(long senders, long each) => senders * each;

    /// <summary>The sum of k * 2^32 + 1 .. k * 2^32 + each over senders k = first .. first + senders - 1.</summary>
    private static long Sum(long first, long senders, long each)
    {
        long sum = 0;
        for (long k = first; k < first + senders; k++)
            sum += (k << 32) * each + each * (each + 1) / 2;
        return sum;
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(2, 3)]
    [InlineData(4, 1)]
    public void OneChannelSharedByEveryKindOfPartyDeliversEachValueOnce(int maxProcs, int capacity)
    {
        const int nativeSenders = 3, managedSenders = 3, threadSenders = 2, each = 1500;
        const int nativeReceivers = 4, managedReceivers = 2, selectReceivers = 2, threadReceivers = 2;
        var ch = new Chan<long>(capacity);
        using var io = new NativeSlots(0, 0, (long)ch.Handle, nativeSenders, each, nativeReceivers, 0, 0, 0);
        long received = 0, sum = 0;
        int sendersDone = 0, leftOver = -1;
        var threads = new List<Thread>();
        void Took(long v)
        {
            Interlocked.Increment(ref received);
            Interlocked.Add(ref sum, v);
        }
        Run(async () =>
        {
            var consumers = new WaitGroup();
            // Plain threads, outside the runtime: they send and receive with blocking calls.
            for (int t = 0; t < threadSenders; t++)
            {
                long k = 1 + nativeSenders + managedSenders + t;
                threads.Add(new Thread(() =>
                {
                    for (long i = 1; i <= each; i++)
                        ch.Send((k << 32) + i);
                    Interlocked.Increment(ref sendersDone);
                }));
            }
            for (int t = 0; t < threadReceivers; t++)
            {
                consumers.Add(1);
                threads.Add(new Thread(() =>
                {
                    while (true)
                    {
                        long v = ch.Receive(out bool ok);
                        if (!ok)
                            break;
                        Took(v);
                    }
                    consumers.Done();
                }));
            }
            foreach (Thread t in threads)
                t.Start();
            Go(TestPrograms.Get("tp_mixed_parties"), io.Address);
            for (int s = 0; s < managedSenders; s++)
            {
                long k = 1 + nativeSenders + s;
                Go(async () =>
                {
                    for (long i = 1; i <= each; i++)
                        await ch.SendAsync((k << 32) + i);
                    Interlocked.Increment(ref sendersDone);
                });
            }
            for (int r = 0; r < managedReceivers; r++)
            {
                consumers.Add(1);
                Go(async () =>
                {
                    await foreach (long v in ch.ReadAllAsync())
                        Took(v);
                    consumers.Done();
                });
            }
            for (int r = 0; r < selectReceivers; r++)
            {
                consumers.Add(1);
                Go(async () =>
                {
                    // A select that mixes the shared channel with a timer, as Go's
                    // `select { case v, ok := <-ch: ...; case <-time.After(d): }`.
                    var s = new Select();
                    int got = s.Receive(ch);
                    while (true)
                    {
                        int chosen = await s.WaitAsync(TimeSpan.FromMilliseconds(50));
                        if (chosen == got && !s.Ok(got))
                            break;
                        if (chosen == got)
                            Took(s.Value<long>(got));
                    }
                    consumers.Done();
                });
            }
            while (Volatile.Read(ref sendersDone) < managedSenders + threadSenders || io[8] < nativeSenders)
                await Sleep(TimeSpan.FromMilliseconds(1));
            ch.Close(); // while receivers of every kind wait
            await consumers.WaitAsync();
            // Nothing is left parked: every goroutine but this one ends.
            for (int i = 0; i < 5000 && Dump().Count > 1; i++)
                await Sleep(TimeSpan.FromMilliseconds(1));
            leftOver = Dump().Count - 1;
        }, maxProcs);
        Assert.Equal(0, leftOver);
        foreach (Thread t in threads)
            Assert.True(t.Join(Deadline));
        AssertNoFailedCheck(io[0], io[1]);
        const int senders = nativeSenders + managedSenders + threadSenders;
        Assert.Equal(Values(senders, each), received + io[6]);
        Assert.Equal(Sum(1, senders, each), sum + io[7]);
    }

    [Fact]
    public void AManagedGoroutineIsWokenByNativeCodeOnAGoroutineStackAndByAPlainThread()
    {
        var ch = new Chan<long>();
        using var io = new NativeSlots(0, 0, (long)ch.Handle, 1, 3, 0, 0, 0, 0);
        var got = new List<long>();
        Run(async () =>
        {
            // A native goroutine in its run loop completes this goroutine's receive: the
            // wake goes to its processor's list, which the scheduler hands over.
            Go(TestPrograms.Get("tp_mixed_parties"), io.Address);
            for (int i = 0; i < 3; i++)
                got.Add(await ch.ReceiveAsync());
            // A plain thread completes it from outside the runtime.
            var thread = new Thread(() => ch.Send(99));
            thread.Start();
            got.Add(await ch.ReceiveAsync());
            thread.Join();
        }, maxProcs: 1);
        AssertNoFailedCheck(io[0], io[1]);
        Assert.Equal([(1L << 32) + 1, (1L << 32) + 2, (1L << 32) + 3, 99], got);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void NativeGoroutinesParkAndWakeInEveryCallWithoutRuntimeCalls(int maxProcs)
    {
        const int rounds = 2000;
        using var io = new NativeSlots(0, 0, rounds, 0);
        long calls = -1;
        Run(async () =>
        {
            long before = Stats.RuntimeCalls;
            Go(TestPrograms.Get("tp_engine_without_runtime_calls"), io.Address);
            while (io[3] == 0)
                await Sleep(TimeSpan.FromMilliseconds(1));
            calls = Stats.RuntimeCalls - before;
        }, maxProcs);
        AssertNoFailedCheck(io[0], io[1]);
        // 2,000 rounds of a select that parks and is completed, a contended mutex handed
        // over, a wait group wait that parks and is woken, and a yield or sleep; then a
        // close that wakes a parked receiver. None needs the scheduler.
        Assert.True(calls < 50, $"{calls} runtime calls for {rounds} rounds");
    }

    [Fact]
    public void ADeadlockDumpNamesEveryWait()
    {
        using var io = new NativeSlots(0, 0);
        var e = Assert.Throws<DeadlockException>(() => Run(TestPrograms.Get("tp_deadlock_every_reason"), io.Address, maxProcs: 2));
        AssertNoFailedCheck(io[0], io[1]);
        WaitReason[] reasons = [.. e.Goroutines.Select(g => g.Reason).Order()];
        Assert.Equal(
            [WaitReason.WaitGroup, WaitReason.ChanSend, WaitReason.ChanReceive, WaitReason.ChanSendNilChan,
             WaitReason.ChanReceiveNilChan, WaitReason.Select, WaitReason.SelectNoCases, WaitReason.Mutex],
            reasons);
        foreach (string name in new[] { "[sync.WaitGroup.Wait", "[chan send,", "[chan receive,", "[chan send (nil chan)",
                     "[chan receive (nil chan)", "[select,", "[select (no cases)", "[sync.Mutex.Lock" })
            Assert.Contains(name, e.Message);
    }

    [Fact]
    public void SteadyStateManagedPingPongAndStreamAllocateNothing()
    {
        // Two managed goroutines on one processor trade values, then stream them through a
        // buffered channel; the worker thread they run on must allocate nothing meanwhile.
        for (int attempt = 1; ; attempt++)
        {
            long bytes = -1;
            int threadBefore = -1, threadAfter = -2;
            var ping = new Chan<long>();
            var pong = new Chan<long>();
            var stream = new Chan<long>(capacity: 64);
            Run(async () =>
            {
                const int warmUp = 3000, rounds = 20_000;
                Go(async () =>
                {
                    foreach (int n in new[] { warmUp, rounds }) // the main goroutine's two phases
                    {
                        for (int i = 0; i < n; i++)
                            await pong.SendAsync(await ping.ReceiveAsync());
                        for (int i = 0; i < n; i++)
                            await stream.ReceiveAsync();
                    }
                });
                long v = 0;
                for (int i = 0; i < warmUp; i++)
                {
                    await ping.SendAsync(v);
                    v = await pong.ReceiveAsync();
                }
                for (int i = 0; i < warmUp; i++)
                    await stream.SendAsync(i);
                threadBefore = Environment.CurrentManagedThreadId;
                long start = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < rounds; i++)
                {
                    await ping.SendAsync(v);
                    v = await pong.ReceiveAsync();
                }
                for (int i = 0; i < rounds; i++)
                    await stream.SendAsync(i);
                bytes = GC.GetAllocatedBytesForCurrentThread() - start;
                threadAfter = Environment.CurrentManagedThreadId;
            }, maxProcs: 1);
            // A loaded machine may deschedule the worker long enough for the monitor to hand
            // its processor to another thread: the count then spans two threads. Try again.
            if (threadBefore != threadAfter && attempt < 3)
                continue;
            Assert.Equal(threadBefore, threadAfter);
            Assert.Equal(0, bytes);
            return;
        }
    }
}
