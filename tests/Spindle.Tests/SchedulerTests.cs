using Xunit;
using static Spindle.Interop.SpindleNative;

namespace Spindle.Tests;

public class SchedulerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void HundredThousandNativeGoroutinesAllFinishOnce(int maxProcs)
    {
        const int n = 100_000;
        var io = new long[4 + n];
        io[0] = n;
        io[1] = 3; // yields each
        TestPrograms.Run("tp_spawn_many", io, maxProcs);
        Assert.Equal(0, io[3]);
        Assert.Equal(n, io[2]);
        for (int i = 0; i < n; i++)
            Assert.True(io[4 + i] == 1, $"goroutine {i} ran to the end {io[4 + i]} times");
    }

    [Fact]
    public void YieldingNativeGoroutinesAreSwitchedByTheNativeRunLoop()
    {
        const int yields = 10_000;
        using var io = new NativeSlots(2, yields, 0, 0, 0, 0);
        long switches = 0;
        Runtime.Run(async () =>
        {
            Runtime.Go(TestPrograms.Get("tp_spawn_many"), io.Address);
            while (io[2] < 2)
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
            switches = Runtime.Stats.NativeSwitches;
        }, maxProcs: 1);
        Assert.Equal(0, io[3]);
        Assert.Equal(1, io[4]); // each ran to the end once
        Assert.Equal(1, io[5]);
        // Two goroutines yield to each other 20,000 times in all. The run loop hands
        // each yield to the scheduler only when its budget (61 switches) is spent or
        // the next goroutine is not native (the sleeping main, a few dozen times):
        // well over half of the switches never leave native code.
        Assert.True(switches > yields, $"only {switches} of {2 * yields} yields switched natively");
    }

    [Fact]
    public void BlockingCallDoesNotStopOthersOnOneProcessor()
    {
        var io = new long[3];
        io[0] = 200_000_000; // 200 ms in a blocking call
        TestPrograms.Run("tp_blocking_call", io, maxProcs: 1);
        Assert.Equal(0, io[2]);
        Assert.True(io[1] > 100, $"the other goroutine made only {io[1]} steps during the blocking call");
    }

    [Fact]
    public void SpinningGoroutineDoesNotStopOthersOnOneProcessor()
    {
        var io = new long[3];
        io[0] = 200_000_000; // 200 ms spinning without a runtime call
        TestPrograms.Run("tp_spinning_hog", io, maxProcs: 1);
        Assert.True(io[1] > 100, $"the other goroutine made only {io[1]} steps while one spun");
    }

    [Fact]
    public void SleepersAllWakeAndNoneEarly()
    {
        // The order of wake-ups 10 ms apart is the loaded machine's to decide (it failed
        // once at a load average near 5); that every sleeper wakes, once, and never before
        // its deadline is the runtime's promise.
        const int n = 8;
        const long baseNs = 10_000_000; // sleeper i sleeps (n - i) * 10 ms
        var io = new long[3 + 2 * n];
        io[0] = n;
        io[1] = baseNs;
        TestPrograms.Run("tp_sleepers", io, maxProcs: 2);
        Assert.Equal(Enumerable.Range(0, n).Select(i => (long)i), io.Skip(3).Take(n).Order()); // each woke once
        for (int i = 0; i < n; i++)
            Assert.True(io[3 + n + i] >= (n - i) * baseNs, $"sleeper {i} woke after {io[3 + n + i]} ns");
    }

    [Fact]
    public void WaitingForeverIsADeadlockWithADump()
    {
        var io = new long[1];
        var e = Assert.Throws<DeadlockException>(() => TestPrograms.Run("tp_wait_forever", io, maxProcs: 2));
        Assert.StartsWith("all goroutines are asleep - deadlock!", e.Message);
        GoroutineInfo main = Assert.Single(e.Goroutines);
        Assert.Equal(GoroutineState.Waiting, main.State);
        Assert.Equal(WaitReason.WaitGroup, main.Reason);
        Assert.Contains("[sync.WaitGroup.Wait", e.Message);
    }

    [Fact]
    public void ASleepingGoroutineIsNotADeadlock()
    {
        var io = new long[] { 50_000_000 };
        TestPrograms.Run("tp_sleep_then_return", io, maxProcs: 1);
    }

    [Fact]
    public void CallbackResultsAndFailures()
    {
        int add = Runtime.RegisterCallback(arg => arg + 1);
        int fail = Runtime.RegisterCallback(_ => throw new InvalidOperationException("boom"));
        try
        {
            var io = new long[6];
            io[0] = add;
            io[1] = fail;
            TestPrograms.Run("tp_callbacks", io, maxProcs: 1);
            Assert.Equal(SP_ECALLBACK, io[3]);
            Assert.Equal(42, io[2]);
            Assert.Equal(SP_EINVAL, io[4]);
            Assert.Equal(100, io[5]); // the runtime kept working after the failure
        }
        finally
        {
            Runtime.UnregisterCallback(add);
            Runtime.UnregisterCallback(fail);
        }
        Assert.False(Runtime.UnregisterCallback(add));
    }

    [Fact]
    public void BadInputInsideAGoroutineGetsDocumentedErrors()
    {
        var io = new long[20];
        TestPrograms.Run("tp_bad_input", io, maxProcs: 1);
        long[] expected = [SP_EINVAL, SP_ESTATE, SP_OK, SP_ESTATE, SP_OK, SP_EINVAL, SP_OK, SP_EINVAL, SP_OK,
            SP_OK, SP_ESTALE, SP_ESTALE, SP_ESTALE, SP_EINVAL, SP_OK, SP_OK, 12345];
        Assert.Equal(expected, io[..expected.Length]);
    }

    [Fact]
    public unsafe void BadInputOutsideTheRuntime()
    {
        Assert.Equal(SP_ENOTGOROUTINE, sp_gosched());
        Assert.Throws<InvalidOperationException>(() => Runtime.Go(() => Task.CompletedTask));
        Assert.Throws<InvalidOperationException>(() => Runtime.GOMAXPROCS(0));
        Assert.Throws<ArgumentNullException>(() => Runtime.Run(0, 0, 1));
        Assert.Throws<ArgumentNullException>(() => Runtime.Run((Func<Task>)null!, 1));
    }
}
