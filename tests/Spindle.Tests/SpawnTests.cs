using Xunit;
using static Spindle.Interop.SpindleNative;

namespace Spindle.Tests;

/// <summary>Goroutines the native run loop starts and finishes by itself (sched.c,
/// run_loop.c), and the wait groups native goroutines use without the runtime
/// (wg_native.c); the programs are in native/tests/goroutines/test_programs.c.</summary>
public class SpawnTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SpawnsExitsAndWaitGroupDonesMakeNoRuntimeCalls(int maxProcs)
    {
        const int n = 100_000;
        using var io = new NativeSlots(new long[3 + n]);
        io[0] = n;
        long calls = 0;
        int live = -1;
        Runtime.Run(async () =>
        {
            Runtime.Go(TestPrograms.Get("tp_spawn_native"), io.Address);
            while (io[1] == 0)
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
            calls = Runtime.Stats.RuntimeCalls;
            while ((live = Runtime.Stats.LiveGoroutines) > 1) // the native main is finishing
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
        }, maxProcs);
        Assert.Equal(0, io[2]);
        for (int i = 0; i < n; i++)
            Assert.True(io[3 + i] == 1, $"goroutine {i} ran {io[3 + i]} times");
        // 100,000 spawns, exits and sp_wg_dones: only the wait group's make, wait,
        // last done (which wakes the waiter) and release are runtime calls.
        Assert.True(calls < 100, $"{calls} runtime calls for {n} goroutines");
        Assert.Equal(1, live); // the managed main alone
    }

    [Fact]
    public void GoroutinesThatHaveNotRunYetAreInTheDump()
    {
        List<GoroutineInfo> dump = [];
        int take = Runtime.RegisterCallback(_ =>
        {
            dump = [.. Runtime.Dump()];
            return 0;
        });
        try
        {
            var io = new long[] { 3, take, 0 };
            TestPrograms.Run("tp_dump_fresh", io, maxProcs: 1);
            Assert.Equal(0, io[2]);
        }
        finally
        {
            Runtime.UnregisterCallback(take);
        }
        // The main goroutine spawned three and called back before it yielded: the
        // three have records (ids, state) but no stack yet.
        Assert.Equal(4, dump.Count);
        Assert.Single(dump, g => g.State == GoroutineState.Running);
        Assert.Equal(3, dump.Count(g => g.State == GoroutineState.Runnable));
        Assert.All(dump, g => Assert.Equal(GoroutineKind.Native, g.Kind));
        Assert.Equal(4, dump.Select(g => g.Id).Distinct().Count());
    }

    [Fact]
    public void AWaitGroupLeftUnreleasedIsReleasedWhenItsRuntimeStops()
    {
        var io = new long[2];
        TestPrograms.Run("tp_wg_unreleased", io, maxProcs: 1);
        Assert.NotEqual(0, io[0]);
        TestPrograms.Run("tp_wg_use", io, maxProcs: 1);
        Assert.Equal(SP_ESTALE, io[1]);
    }
}
