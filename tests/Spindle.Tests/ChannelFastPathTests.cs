using Xunit;
using static Spindle.Interop.SpindleNative;

namespace Spindle.Tests;

/// <summary>Channel operations native goroutines complete or park in by themselves,
/// without a runtime call (chan_fast.c), and how they meet the managed runtime's side
/// of the same channels (native/tests/goroutines/chan_programs.c).</summary>
public class ChannelFastPathTests
{
    private static void AssertNoFailedCheck(long failed, long line) =>
        Assert.True(failed == 0, $"{failed} checks failed, the first at chan_programs.c line {line}");

    [Fact]
    public void NativeGoroutinesCompleteChannelOperationsWithoutRuntimeCalls()
    {
        const int rounds = 100_000;
        using var io = new NativeSlots(0, 0, rounds, 0, 0);
        long calls = 0;
        Runtime.Run(async () =>
        {
            Runtime.Go(TestPrograms.Get("tp_fast_pingpong"), io.Address);
            while (io[4] == 0)
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
            calls = Runtime.Stats.RuntimeCalls;
        }, maxProcs: 1);
        AssertNoFailedCheck(io[0], io[1]);
        Assert.Equal(rounds, io[3]); // every value went there and back, incremented once
        // 400,000 channel operations: each hands over to a parked partner or parks by
        // itself. Only the makes, the spawn and the releases are runtime calls.
        Assert.True(calls < 100, $"{calls} runtime calls for {4 * rounds} channel operations");
    }

    [Fact]
    public void NativeGoroutinesParkedWithoutARuntimeCallAreCompletedFromCSharp()
    {
        using var io = new NativeSlots(0, 0, 0, 0, -1, -1, -1, 0);
        long received = 0;
        List<GoroutineInfo> parked = [];
        Runtime.Run(async () =>
        {
            Runtime.Go(TestPrograms.Get("tp_park_for_csharp"), io.Address);
            while (io[2] == 0)
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
            while (Runtime.Dump().Count(g => g.State == GoroutineState.Waiting) < 2)
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
            parked = [.. Runtime.Dump().Where(g => g.State == GoroutineState.Waiting)];
            var a = Chan<long>.FromHandle((ulong)io[2]);
            var b = Chan<long>.FromHandle((ulong)io[3]);
            received = await b.ReceiveAsync(); // from the parked native sender
            a.Close();                         // wakes the parked native receiver
            while (io[7] < 2)
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
        }, maxProcs: 1);
        AssertNoFailedCheck(io[0], io[1]);
        Assert.Equal([WaitReason.ChanSend, WaitReason.ChanReceive], parked.Select(g => g.Reason).Order());
        Assert.Equal(99, received);
        Assert.Equal(SP_OK, io[6]);
        Assert.Equal(0, io[4]); // the zero value
        Assert.Equal(0, io[5]); // ok false: closed
    }

    [Fact]
    public void AGoroutineLeftParkedLeavesNoWaiterInItsChannelAndItsRuntimesObjectsGo()
    {
        var ch = new Chan<long>(capacity: 1);
        var io = new long[6];
        io[2] = (long)ch.Handle;
        TestPrograms.Run("tp_leave_parked", io, maxProcs: 1); // main returns, one receiver parked
        AssertNoFailedCheck(io[0], io[1]);
        // What the runtime's goroutines made and left is released with it, as a Go
        // program's exit frees everything.
        Assert.Throws<ObjectDisposedException>(() => Chan<long>.FromHandle((ulong)io[5]));
        io[3] = 7;
        // A stale waiter would take this send into the discarded goroutine's stack.
        TestPrograms.Run("tp_send_then_receive", io, maxProcs: 1);
        AssertNoFailedCheck(io[0], io[1]);
        Assert.Equal(7, io[4]);
        GC.KeepAlive(ch);
    }

    [Fact]
    public void TheFastPathKeepsItsPromisesAfterTheMonitorTookTheProcessor()
    {
        // A goroutine spins 15 ms without a runtime call, so the monitor hands its P to
        // another worker; its next channel operations run without the P, where the fast
        // path must leave the queue alone and the scheduler account for both goroutines.
        const int rounds = 20;
        using var io = new NativeSlots(0, 0, rounds, 15_000_000, 0);
        long retaken = 0;
        Runtime.Run(async () =>
        {
            Runtime.Go(TestPrograms.Get("tp_hog_then_channel"), io.Address);
            while (io[4] < rounds)
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
            retaken = Runtime.Stats.HogsRetaken;
        }, maxProcs: 1);
        AssertNoFailedCheck(io[0], io[1]);
        Assert.True(io[4] == rounds, $"{io[4]} of {rounds} rounds ({retaken} processors retaken)");
    }
}
