using System.Runtime.CompilerServices;
using Xunit;
using static Spindle.Runtime;

namespace Spindle.Tests;

public class GoroutineLocalTests
{
    [ThreadStatic] private static string? t_mark;

    [Fact]
    public void AValueFollowsItsGoroutineAcrossParksAndWorkers()
    {
        // At GOMAXPROCS 2 a goroutine that parks may resume on the other worker; it parks
        // (sleeps, channel receives, yields) until it has changed threads three times.
        var local = new GoroutineLocal<string>();
        int moves = 0, parks = 0;
        bool keptEveryTime = true, threadLocalFollowed = false;
        Run(async () =>
        {
            var ch = new Chan<int>(1);
            local.Value = "mine";
            int thread = Environment.CurrentManagedThreadId;
            string mark = "mine, before move 0";
            t_mark = mark; // a new mark at every move: it may come back to a thread it marked
            while (moves < 3 && parks < 20_000)
            {
                switch (parks++ % 3)
                {
                    case 0:
                        await Sleep(TimeSpan.FromTicks(500));
                        break;
                    case 1:
                        Go(async () => await ch.SendAsync(1));
                        await ch.ReceiveAsync();
                        break;
                    default:
                        await Yield();
                        break;
                }
                keptEveryTime &= local.Value == "mine" && local.IsValueCreated;
                if (Environment.CurrentManagedThreadId != thread)
                {
                    moves++;
                    threadLocalFollowed |= t_mark == mark;
                    thread = Environment.CurrentManagedThreadId;
                    mark = $"mine, before move {moves}";
                    t_mark = mark;
                }
            }
        }, maxProcs: 2);
        Assert.True(moves == 3, $"the goroutine changed worker threads {moves} times in {parks} parks");
        Assert.True(keptEveryTime);
        Assert.False(threadLocalFollowed); // what GoroutineLocal is for
    }

    [Fact]
    public void EachGoroutineHasItsOwnValue()
    {
        int made = 0;
        var local = new GoroutineLocal<int>(() =>
        {
            Interlocked.Increment(ref made);
            return -1;
        });
        const int Goroutines = 50;
        var seen = new int[Goroutines];
        var firstReads = new int[Goroutines];
        Run(async () =>
        {
            var wg = new WaitGroup();
            wg.Add(Goroutines);
            for (int i = 0; i < Goroutines; i++)
            {
                int me = i;
                Go(async () =>
                {
                    firstReads[me] = local.Value; // the factory's, once for this goroutine
                    local.Value = me;
                    for (int k = 0; k < 20; k++)
                    {
                        await Yield();
                        if (local.Value != me)
                            break;
                    }
                    seen[me] = local.Value;
                    wg.Done();
                });
            }
            await wg.WaitAsync();
            Assert.Equal(-1, local.Value); // main's own, never set
        }, maxProcs: 2);
        Assert.Equal(Enumerable.Range(0, Goroutines), seen);
        Assert.All(firstReads, v => Assert.Equal(-1, v));
        Assert.Equal(Goroutines + 1, made);
    }

    [Fact]
    public void ValuesDieWithTheirGoroutine()
    {
        // On one processor a finished goroutine's record (and descriptor) is the next one
        // spawned: the new goroutine must start without the old one's value.
        var local = new GoroutineLocal<string?>();
        int reused = 0;
        var leaked = new List<string?>();
        Run(async () =>
        {
            for (int i = 0; i < 20; i++)
            {
                object? before = null;
                var wg = new WaitGroup();
                wg.Add(1);
                Go(async () =>
                {
                    before = Goroutine.Running;
                    local.Value = $"goroutine {i}";
                    await Yield();
                    wg.Done();
                });
                await wg.WaitAsync();
                await Yield(); // it has ended
                wg.Add(1);
                Go(async () =>
                {
                    if (ReferenceEquals(Goroutine.Running, before))
                        Interlocked.Increment(ref reused);
                    if (local.IsValueCreated || local.Value is not null)
                        lock (leaked)
                            leaked.Add(local.Value);
                    await Yield();
                    wg.Done();
                });
                await wg.WaitAsync();
            }
        }, maxProcs: 1);
        Assert.Empty(leaked);
        Assert.True(reused > 0, "no goroutine reused a finished one's descriptor: the test shows nothing");
    }

    private static void AssertRefused(Exception? e)
    {
        Assert.IsType<InvalidOperationException>(e);
        Assert.Contains("GoroutineLocal<T>.Value is for managed goroutines", e!.Message);
    }

    [Fact]
    public void OnAPlainThreadItSaysSo()
    {
        var local = new GoroutineLocal<int>();
        AssertRefused(Record(() => _ = local.Value));
        AssertRefused(Record(() => local.Value = 1));
        AssertRefused(Record(() => _ = local.IsValueCreated));
        Assert.False(GoroutineLocal<int>.InGoroutine);
    }

    [Fact]
    public void InATaskItSaysSo()
    {
        var local = new GoroutineLocal<int>();
        Exception? inTask = null;
        bool inGoroutine = false;
        int kept = 0;
        Run(async () =>
        {
            inGoroutine = GoroutineLocal<int>.InGoroutine;
            local.Value = 7;
            inTask = await Task.Run(() => Record(() => _ = local.Value));
            kept = local.Value; // back in the goroutine
        }, maxProcs: 2);
        Assert.True(inGoroutine);
        Assert.Equal(7, kept);
        AssertRefused(inTask);
    }

    [Fact]
    public void AfterConfigureAwaitFalseItSaysSo()
    {
        var local = new GoroutineLocal<int>();
        Exception? afterConfigureAwait = null;
        int kept = 0;
        Run(async () =>
        {
            local.Value = 7;
            afterConfigureAwait = await OffTheGoroutine();
            kept = local.Value; // awaited with its context: back in the goroutine
        }, maxProcs: 2);
        AssertRefused(afterConfigureAwait);
        Assert.Equal(7, kept);

        // The goroutine awaits this with its context, so that the goroutine itself ends on
        // a worker (one that ended on the thread pool would never tell the runtime).
        async Task<Exception?> OffTheGoroutine()
        {
            await Task.Delay(1).ConfigureAwait(false); // continues on the thread pool
            return Record(() => _ = local.Value);
        }
    }

    [Fact]
    public void InANativeGoroutinesCallbackItSaysSo()
    {
        var local = new GoroutineLocal<int>();
        Exception? inCallback = null;
        int callback = RegisterCallback(arg =>
        {
            inCallback = Record(() => _ = local.Value);
            return arg + 1;
        });
        int fail = RegisterCallback(_ => throw new InvalidOperationException("the other callback"));
        try
        {
            var io = new long[6];
            io[0] = callback;
            io[1] = fail;
            TestPrograms.Run("tp_callbacks", io, maxProcs: 1);
            Assert.Equal(42, io[2]);
        }
        finally
        {
            UnregisterCallback(callback);
            UnregisterCallback(fail);
        }
        AssertRefused(inCallback);
    }

    private static Exception? Record(Action use)
    {
        try
        {
            use();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [Fact]
    public void ReadsAndLaterWritesAllocateNothing()
    {
        var local = new GoroutineLocal<long>();
        long allocated = -1, sum = 0;
#pragma warning disable CS1998 // one step: the measurement must not span a wait
        Run(async () =>
        {
            local.Value = 1; // the first write makes this goroutine's slot
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                sum += local.Value;
                local.Value = i;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, maxProcs: 1);
#pragma warning restore CS1998
        Assert.Equal(0, allocated);
        Assert.True(sum > 0);
    }

    [Fact]
    public void ACollectedInstancesSlotServesANewOneFromScratch()
    {
        // Instances that are collected give their slot back (once no goroutine holds a value
        // of theirs), and a new instance of another type takes it from scratch.
        int[] old = TakeAndDropSlots(100);
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        int[] slots = [];
        bool fresh = true;
        Run(async () =>
        {
            var locals = Enumerable.Range(0, 100).Select(_ => new GoroutineLocal<int>()).ToArray();
            slots = [.. locals.Select(l => l.Slot)];
            foreach (var l in locals)
            {
                fresh &= !l.IsValueCreated && l.Value == 0;
                l.Value = 5;
                fresh &= l.Value == 5;
            }
            await Yield();
        }, maxProcs: 1);
        Assert.True(fresh);
        Assert.NotEmpty(slots.Intersect(old));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int[] TakeAndDropSlots(int n)
    {
        int[] slots = new int[n];
        Run(async () =>
        {
            for (int i = 0; i < n; i++)
            {
                var l = new GoroutineLocal<string?> { Value = "old" };
                slots[i] = l.Slot;
            }
            await Yield();
        }, maxProcs: 1);
        return slots;
    }
}
