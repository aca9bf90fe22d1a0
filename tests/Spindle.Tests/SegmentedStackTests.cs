using System.Runtime.InteropServices;
using Xunit;
using Xunit.Abstractions;

namespace Spindle.Tests;

/// <summary>Native goroutines on 2 KiB segmented stacks (x86-64 Linux): the default
/// for code built with spindle_add_goroutine_library.</summary>
public class SegmentedStackTests(ITestOutputHelper output)
{
    private static bool X64Linux =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [Fact]
    public void SplitStackProgramsGetSegmentsByDefault()
    {
        Assert.Equal(X64Linux, Runtime.SegmentedStacksAvailable);
        nint program = TestPrograms.Get("tp_park_many");
        Assert.Equal(X64Linux, Runtime.IsSplitStack(program));
        string description = Runtime.DescribeStacks(program);
        Assert.StartsWith(X64Linux ? "segmented" : "reserved", description);
        var kinds = new long[2];
        TestPrograms.Run("tp_stack_kind", kinds, maxProcs: 1);
        int expected = X64Linux ? (int)Interop.sp_stack_kind.SP_STACK_SEGMENTED : (int)Interop.sp_stack_kind.SP_STACK_RESERVED;
        Assert.Equal(expected, (int)kinds[0]);
        Assert.Equal(expected, (int)kinds[1]);
    }

    [Fact]
    public void MillionParkedGoroutinesHoldLessThanGoDoes()
    {
        Assert.True(X64Linux, "segmented stacks are x86-64 Linux only");
        const int n = 1_000_000;
        var io = new long[5];
        io[0] = n;
        TestPrograms.Run("tp_park_many", io, maxProcs: 2);
        Assert.Equal(0, io[3]);
        Assert.Equal(n, io[4]); // every goroutine woke when the channel closed
        double perGoroutine = (double)(io[2] - io[1]) / n;
        output.WriteLine($"{n:N0} goroutines parked in a channel receive: {perGoroutine:N0} resident bytes each");
        // Go 1.19 runs the same program (bench/go, parked) at 2,733 bytes per goroutine here.
        Assert.True(perGoroutine < 2733, $"{perGoroutine:N0} bytes per parked goroutine");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void DeepGoroutinesMovingBetweenWorkersKeepTheirStacks(int maxProcs)
    {
        // 200 goroutines, 3,000 frames each, yielding on the way down and up: each
        // grows and gives back segments on whichever worker runs it at the time.
        var io = new long[4];
        io[0] = 200;
        io[1] = 3000;
        TestPrograms.Run("tp_deep_moving", io, maxProcs);
        Assert.Equal(0, io[3]);
        Assert.Equal(200, io[2]);
    }

    [Fact]
    public void SegmentedStacksForCodeWithoutSplitStackAreRefused()
    {
        // libspindle itself is not split-stack code: its functions never start on a segment.
        nint notSplit = NativeLibrary.GetExport(NativeLibrary.Load(Path.Combine(AppContext.BaseDirectory, "libspindle.so")), "sp_gosched");
        Assert.False(Runtime.IsSplitStack(notSplit));
        GoroutineStacks? before = Runtime.StacksSetting;
        Runtime.Stacks = GoroutineStacks.Segmented;
        try
        {
            var e = Assert.ThrowsAny<Exception>(() => Runtime.Run(notSplit, 0, maxProcs: 1));
            Assert.Contains("SP_ENOTSPLIT", e.Message);
        }
        finally
        {
            Runtime.StacksSetting = before;
        }
        Assert.StartsWith("reserved", Runtime.DescribeStacks(notSplit));
    }

    [Fact]
    public void ReservedStacksCanBeAskedFor()
    {
        GoroutineStacks? before = Runtime.StacksSetting;
        Runtime.Stacks = GoroutineStacks.Reserved;
        try
        {
            const int n = 20_000;
            var io = new long[5];
            io[0] = n;
            TestPrograms.Run("tp_park_many", io, maxProcs: 2);
            Assert.Equal(0, io[3]);
            Assert.Equal(n, io[4]);
            double perGoroutine = (double)(io[2] - io[1]) / n;
            output.WriteLine($"reserved stacks: {perGoroutine:N0} resident bytes per parked goroutine");
            var kinds = new long[2];
            TestPrograms.Run("tp_stack_kind", kinds, maxProcs: 1);
            Assert.Equal((int)Interop.sp_stack_kind.SP_STACK_RESERVED, (int)kinds[0]);
            Assert.Equal((int)Interop.sp_stack_kind.SP_STACK_RESERVED, (int)kinds[1]);
        }
        finally
        {
            Runtime.StacksSetting = before;
        }
    }

    [Fact]
    public void SignalHandlersRunOnTheAlternateStackOnceARuntimeRuns()
    {
        // The .NET runtime installs some handlers without SA_ONSTACK; on a 2 KiB
        // segment their signal frames would overwrite other goroutines' stacks.
        Runtime.Run(async () => await Task.Yield(), maxProcs: 1);
        Assert.Equal(0, Interop.SpindleNative.sp_signal_handlers_onstack()); // nothing left to move
    }

    [Fact]
    public void MaxStackOutsideItsRangeIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Runtime.MaxStack = 100);
        Assert.Throws<ArgumentOutOfRangeException>(() => Runtime.MaxStack = 2L << 30);
        Assert.Equal(0, Runtime.MaxStack);
    }
}
