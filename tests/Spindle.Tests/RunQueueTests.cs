using Xunit;

namespace Spindle.Tests;

/// <summary>The local run queue on its own (the native ring of run_queue.c, through its
/// managed face): every goroutine put in comes out exactly once, whoever takes it
/// (owner, thief, or the spill to the global queue).</summary>
public class RunQueueTests
{
    private readonly GoroutineTable _table = new();

    private Goroutine G(long id)
    {
        Goroutine g = _table.Add();
        g.Id = id;
        return g;
    }

    [Fact]
    public void NextOnAFullRingKeepsTheNewGoroutineAndSpillsTheDisplacedOne()
    {
        var q = new RunQueue(_table);
        Assert.Null(q.Put(G(-1), next: true)); // runnext
        for (int i = 0; i < RunQueue.Capacity; i++)
            Assert.Null(q.Put(G(i), next: false));
        Goroutine newest = G(1000);
        Goroutine? spilled = q.Put(newest, next: true);
        // The displaced runnext goroutine is the caller's to move; the new one stays
        // in runnext and is never handed back (a thief may already have taken it).
        Assert.NotNull(spilled);
        Assert.Equal(-1, spilled!.Id);
        Assert.Same(newest, q.Get());
        Assert.Equal(0, q.Get()!.Id);
    }

    [Fact]
    public void OnAFullRingAPlainPutHandsTheGoroutineBack()
    {
        var q = new RunQueue(_table);
        for (int i = 0; i < RunQueue.Capacity; i++)
            Assert.Null(q.Put(G(i), next: false));
        Goroutine extra = G(RunQueue.Capacity);
        Assert.Same(extra, q.Put(extra, next: false));
    }

    [Theory]
    [InlineData(1)] // the owner takes one after every put: the ring stays short, thieves go for runnext
    [InlineData(4)]
    [InlineData(64)] // the ring fills up and spills
    public void EveryGoroutineComesOutExactlyOnceUnderStealing(int ownerTakesEvery)
    {
        const int n = 1_000_000;
        var owner = new RunQueue(_table);
        var taken = new int[n];
        var spilled = new List<Goroutine>();
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
            Goroutine? spill = owner.Put(G(i), next: random.Next(4) != 0);
            if (spill is not null)
            {
                for (Goroutine? g = owner.TakeHalfForGlobal(out _); g is not null; g = g.Link)
                    spilled.Add(g);
                spilled.Add(spill);
            }
            if (i % ownerTakesEvery == 0 && owner.Get() is { } mine)
                Interlocked.Increment(ref taken[mine.Id]);
        }
        for (Goroutine? g = owner.Get(); g is not null; g = owner.Get())
            Interlocked.Increment(ref taken[g.Id]);
        Volatile.Write(ref done, true);
        foreach (Thread t in thieves)
            t.Join();
        foreach (Goroutine g in spilled)
            taken[g.Id]++;
        int lost = taken.Count(c => c == 0), twice = taken.Count(c => c > 1);
        Assert.True(lost == 0 && twice == 0, $"{lost} goroutines lost, {twice} taken more than once");
    }
}
