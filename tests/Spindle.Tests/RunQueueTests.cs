using Xunit;

namespace Spindle.Tests;

/// <summary>The local run queue on its own (the native ring of run_queue.c, through its
/// managed face): every goroutine put in comes out exactly once, whoever takes it
/// (owner, thief, or the spill to the global queue).</summary>
public class RunQueueTests
{
    // No scheduler: these records are only queued and taken, never run.
    private readonly GoroutineTable _table = new(null!, GoroutineStacks.Default, 0);

    /// <summary>A new record: the table numbers them 1, 2, ... in the order made.</summary>
    private Goroutine G() => _table.New(null);

    [Fact]
    public void NextOnAFullRingKeepsTheNewGoroutineAndSpillsTheDisplacedOne()
    {
        var q = new RunQueue(_table);
        Goroutine first = G();
        Assert.Null(q.Put(first, next: true)); // runnext
        var ring = new List<Goroutine>();
        for (int i = 0; i < RunQueue.Capacity; i++)
        {
            ring.Add(G());
            Assert.Null(q.Put(ring[^1], next: false));
        }
        Goroutine newest = G();
        Goroutine? spilled = q.Put(newest, next: true);
        // The displaced runnext goroutine is the caller's to move; the new one stays
        // in runnext and is never handed back (a thief may already have taken it).
        Assert.Same(first, spilled);
        Assert.Same(newest, q.Get());
        Assert.Same(ring[0], q.Get());
    }

    [Fact]
    public void OnAFullRingAPlainPutHandsTheGoroutineBack()
    {
        var q = new RunQueue(_table);
        for (int i = 0; i < RunQueue.Capacity; i++)
            Assert.Null(q.Put(G(), next: false));
        Goroutine extra = G();
        Assert.Same(extra, q.Put(extra, next: false));
    }

    [Theory]
    [InlineData(1)] // the owner takes one after every put: the ring stays short, thieves go for runnext
    [InlineData(4)]
    [InlineData(64)] // the ring fills up and spills half of it to the global queue
    public void EveryGoroutineComesOutExactlyOnceUnderStealing(int ownerTakesEvery)
    {
        const int n = 1_000_000;
        var owner = new RunQueue(_table);
        var global = new GlobalQueue(_table);
        var taken = new int[n + 1]; // by id: 1 .. n
        bool done = false;
        var thieves = new Thread[2];
        for (int t = 0; t < thieves.Length; t++)
        {
            var own = new RunQueue(_table);
            thieves[t] = new Thread(() =>
            {
                while (!Volatile.Read(ref done))
                {
                    Goroutine? g = own.Get() ?? own.StealHalf(owner);
                    if (g is not null)
                        Interlocked.Increment(ref taken[g.Id]);
                }
                for (Goroutine? g = own.Get(); g is not null; g = own.Get())
                    Interlocked.Increment(ref taken[g.Id]);
            });
            thieves[t].Start();
        }
        var random = new Random(7);
        for (int i = 0; i < n; i++)
        {
            owner.PutOrSpill(G(), next: random.Next(4) != 0);
            if (i % ownerTakesEvery == 0 && owner.Get() is { } mine)
                Interlocked.Increment(ref taken[mine.Id]);
        }
        for (Goroutine? g = owner.Get(); g is not null; g = owner.Get())
            Interlocked.Increment(ref taken[g.Id]);
        Volatile.Write(ref done, true);
        foreach (Thread t in thieves)
            t.Join();
        for (Goroutine? g = global.Pop(); g is not null; g = global.Pop())
            taken[g.Id]++;
        int lost = taken.Skip(1).Count(c => c == 0), twice = taken.Count(c => c > 1);
        Assert.True(lost == 0 && twice == 0, $"{lost} goroutines lost, {twice} taken more than once");
    }
}
