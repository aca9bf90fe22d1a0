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

    /// <summary>Every goroutine call (receive, send, select, sleep, mutex, wait group, go,
    /// yield, timer), made from a frame that split-stack code runs below its segment's limit
    /// (as the compilers allow, up to 256 bytes), parks and comes back with libspindle's
    /// frames inside the reserve below the limit, traced too (the tracer hands full batches
    /// over from the thread's own stack). With a 512-byte reserve a receive wrote under the
    /// segment and crashed the process. A child process: an overrun ends it.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryGoroutineCallFitsTheReserveBelowASegmentsLimit(bool traced)
    {
        const int rounds = 10;
        string lib = Path.Combine(AppContext.BaseDirectory, "libspindle_testprogs.so");
        string trace = Path.Combine(TraceTestSupport.TempDir(), "edge.nettrace");
        string[] run = ["run", lib, "--entry", "tp_calls_at_the_limit_main", "--maxprocs", "1"];
        var (file, args) = TraceTestSupport.SpindleProcess(traced ? ["trace", "record", "--buffer-mb", "1", "--out", trace, "--", .. run] : run);
        var (code, stdout, stderr) = TraceTestSupport.Run(file, args, TimeSpan.FromMinutes(2),
            new Dictionary<string, string> { ["SPINDLE_EDGE_ROUNDS"] = rounds.ToString() });
        output.WriteLine(stdout);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("; 0 failed checks", stdout);
        if (!X64Linux)
        {
            Assert.Matches(@"(?m)^0 calls below the limit", stdout); // no segments here
            return;
        }
        var m = System.Text.RegularExpressions.Regex.Match(stdout, @"(\d+) calls below the limit wrote at most (\d+) bytes under it");
        Assert.True(m.Success, stdout);
        Assert.Equal(rounds * 9 * 9, int.Parse(m.Groups[1].Value)); // every call, from nine depths, each round
        int deepest = int.Parse(m.Groups[2].Value);
        Assert.InRange(deepest, 1, Interop.SpindleNative.SP_SEGMENT_RESERVE - 1);
        if (traced)
            Assert.True(File.Exists(trace));
    }

    /// <summary>Deep goroutines grow segments while the switch trace records: a segment's
    /// growth, run by __morestack on the worker's own stack, records an event, and one that
    /// fills a batch hands it over from there, in place (sp_systemstack used to run it over
    /// __morestack's own frames: the process died, every run). A child process.</summary>
    [Fact]
    public void DeepGoroutinesGrowTheirStacksWhileTheTraceRecords()
    {
        const int goroutines = 2000;
        string lib = Path.Combine(AppContext.BaseDirectory, "libspindle_testprogs.so");
        string trace = Path.Combine(TraceTestSupport.TempDir(), "deep.nettrace");
        var (file, args) = TraceTestSupport.SpindleProcess("trace", "record", "--buffer-mb", "4", "--out", trace, "--",
            "run", lib, "--entry", "tp_deep_moving_main", "--maxprocs", "2");
        var (code, stdout, stderr) = TraceTestSupport.Run(file, args, TimeSpan.FromMinutes(2),
            new Dictionary<string, string> { ["SPINDLE_DEEP_GOROUTINES"] = goroutines.ToString() });
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"{goroutines} of {goroutines} deep goroutines summed right; 0 errors", stdout);
        Assert.Contains("trace written to", stderr);
    }
}
