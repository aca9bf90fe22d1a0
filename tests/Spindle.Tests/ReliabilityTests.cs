using System.Diagnostics;
using Xunit;
using static Spindle.Runtime;

namespace Spindle.Tests;

/// <summary>Promises that hold under a hostile load: every runnable goroutine, sleeper
/// and managed goroutine gets its turn beside goroutines that keep their processor busy;
/// released objects give their memory and timers back at once; a handle never acts on an
/// object of another kind; bad durations and configuration get clear answers; a program
/// ends promptly when main returns. Fairness is asserted by the parties completing, with
/// a generous deadline in the harness, never by timing the runtime
/// (native/tests/goroutines/reliability_programs.c).</summary>
public class ReliabilityTests
{
    /// <summary>Long enough for anything that is merely slow on a loaded machine; a
    /// starved party never finishes at all.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static void AssertNoFailedCheck(long failed, long line) =>
        Assert.True(failed == 0, $"{failed} checks failed, the first at reliability_programs.c line {line}");

    /// <summary>A runtime run on a thread of its own, so the harness can watch it and
    /// give up on it after a deadline instead of hanging with it.</summary>
    private sealed class RuntimeThread
    {
        private readonly Thread _thread;
        private Exception? _error;

        public RuntimeThread(Action run)
        {
            _thread = new Thread(() =>
            {
                try { run(); }
                catch (Exception e) { _error = e; }
            }) { IsBackground = true, Name = "reliability test runtime" };
            _thread.Start();
        }

        /// <summary>Waits for the runtime to return; false after deadline.</summary>
        public bool Join(TimeSpan deadline) => _thread.Join(deadline);

        /// <summary>What the runtime threw, once it returned.</summary>
        public Exception? Error => _error;
    }

    private static bool WaitUntil(Func<bool> condition, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > deadline)
                return false;
            Thread.Sleep(5);
        }
        return true;
    }

    /// <summary>Busy units (ping-pong pairs or select pollers) on every processor, then a
    /// native sleeper, a native goroutine that is merely runnable, a managed goroutine that
    /// is merely runnable, and a managed sleeper: each must get its turn while the busy
    /// units keep going. The busy units stop only when the harness says so.</summary>
    private static void AssertEveryoneGetsATurn(int maxProcs, bool buffered, bool pollers, GoroutineStacks stacks)
    {
        using var io = new NativeSlots(0, 0, maxProcs, buffered ? 1 : 0, pollers ? 1 : 0, 0, 0, 0, 0, 0);
        int managedRan = 0, managedSlept = 0;
        var release = new Chan<int>();
        GoroutineStacks? before = Runtime.StacksSetting;
        Runtime.Stacks = stacks;
        try
        {
            var runtime = new RuntimeThread(() => Run(async () =>
            {
                Go(TestPrograms.Get("tp_fair_busy"), io.Address);
                while (io[9] < maxProcs)
                    await Yield();
                Go(async () => { Volatile.Write(ref managedRan, 1); await Task.CompletedTask; });
                await Sleep(TimeSpan.FromMilliseconds(20));
                Volatile.Write(ref managedSlept, 1);
                await release.ReceiveOkAsync(); // closed by the harness
            }, maxProcs));
            bool everyone = WaitUntil(() =>
                io[6] == 1 && io[7] == 1 && Volatile.Read(ref managedRan) == 1 && Volatile.Read(ref managedSlept) == 1,
                Deadline);
            string seen = $"native sleeper {io[6]}, native runnable {io[7]}, managed runnable {managedRan}, " +
                          $"managed sleeper {managedSlept}, busy rounds {io[8]}";
            io[5] = 1;        // the busy units stop
            release.Close();  // and main returns
            bool returned = runtime.Join(Deadline);
            Assert.True(everyone, $"not everyone got a turn within {Deadline.TotalSeconds} s: {seen}");
            Assert.True(returned, "the runtime did not return once the busy goroutines stopped");
            Assert.True(runtime.Error is null, $"the runtime failed: {runtime.Error}");
            AssertNoFailedCheck(io[0], io[1]);
            Assert.True(io[8] > 0);
        }
        finally
        {
            Runtime.StacksSetting = before;
        }
    }

    [Theory]
    [InlineData(1, false, GoroutineStacks.Default)]
    [InlineData(1, true, GoroutineStacks.Default)]
    [InlineData(1, false, GoroutineStacks.Reserved)]
    [InlineData(2, false, GoroutineStacks.Default)]
    [InlineData(2, true, GoroutineStacks.Reserved)]
    public void BusyChannelPairsLeaveEveryoneATurn(int maxProcs, bool buffered, GoroutineStacks stacks) =>
        AssertEveryoneGetsATurn(maxProcs, buffered, pollers: false, stacks);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SelectWithDefaultPollersLeaveEveryoneATurn(int maxProcs) =>
        AssertEveryoneGetsATurn(maxProcs, buffered: false, pollers: true, GoroutineStacks.Default);

    [Fact]
    public void TwoPendingSleepsInOneGoroutineEachWakeOnTimeNeverEarly()
    {
        var asked = new[] { TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300) };
        var slept = new TimeSpan[2];
        async Task Nap(int i)
        {
            var clock = Stopwatch.StartNew();
            await Sleep(asked[i]);
            slept[i] = clock.Elapsed;
        }
        var runtime = new RuntimeThread(() => Run(() => Task.WhenAll(Nap(0), Nap(1)), maxProcs: 1));
        Assert.True(runtime.Join(Deadline), $"the sleeps did not both end (slept {slept[0]}, {slept[1]})");
        Assert.Null(runtime.Error);
        for (int i = 0; i < 2; i++)
            Assert.True(slept[i] >= asked[i], $"a sleep of {asked[i]} woke after {slept[i]}");
    }

    /// <summary>Objects made, used and released round after round: resident memory after
    /// the last round stays within 16 MiB of what it was after the second. Per round, a
    /// leak would keep 6.4 MiB of channel buffers, 20,000 timers, mutexes, wait groups
    /// or goroutine records.</summary>
    [Theory]
    [InlineData(0, 100)]    // channels with a 64 KiB buffer, filled
    [InlineData(1, 20_000)] // sp_after timers of an hour, released unread
    [InlineData(2, 2_000)]  // tickers of 1 ms, released unstopped
    [InlineData(3, 20_000)] // mutexes
    [InlineData(4, 20_000)] // wait groups
    [InlineData(5, 20_000)] // goroutines
    public void ReleasedObjectsGiveTheirMemoryBack(int kind, int perRound)
    {
        if (!OperatingSystem.IsLinux())
            return; // resident memory is read from /proc
        const int rounds = 10;
        using var io = new NativeSlots(0, 0, rounds, perRound, kind, 0, 0);
        var runtime = new RuntimeThread(() => Run(TestPrograms.Get("tp_leak_rounds"), io.Address, maxProcs: 2));
        Assert.True(runtime.Join(2 * Deadline), "the rounds did not finish");
        Assert.Null(runtime.Error);
        AssertNoFailedCheck(io[0], io[1]);
        long growth = io[6] - io[5];
        Assert.True(growth < 16 << 20, $"resident memory grew by {growth >> 20} MiB over {rounds - 2} rounds of kind {kind}");
    }

    [Fact]
    public void ReleasedTimersAndTickersDoNotKeepAProgramAlive()
    {
        // Main releases a thousand hour-long timers and a thousand unstopped 1 ms tickers,
        // then waits on the nil channel: nothing can wake it, so that is a deadlock, not a
        // program kept alive by timers nobody can read.
        using var io = new NativeSlots(0, 0, 1000, 0);
        var runtime = new RuntimeThread(() => Run(TestPrograms.Get("tp_released_timers_then_block"), io.Address, maxProcs: 1));
        Assert.True(runtime.Join(Deadline), "released timers kept the program alive (no deadlock reported)");
        AssertNoFailedCheck(io[0], io[1]);
        Assert.Equal(1, io[3]);
        var deadlock = Assert.IsType<DeadlockException>(runtime.Error);
        Assert.Equal(WaitReason.ChanReceiveNilChan, Assert.Single(deadlock.Goroutines).Reason);
    }

    [Fact]
    public void AParkInABlockingSectionLeavesTheChannelFreeForTheOnlyProcessor()
    {
        // A goroutine parks in a send inside a blocking section after the monitor gave
        // its processor to main, which polls that channel on the only processor. The
        // park must let go of the channel's lock at once, not hold it while the sender
        // waits in a queue for a processor main never gives up.
        // The sender comes back to find main on the processor in most rounds, not all.
        for (int round = 0; round < 5; round++)
        {
            using var io = new NativeSlots(0, 0, 0, 0, 0);
            var runtime = new RuntimeThread(() => Run(TestPrograms.Get("tp_park_in_blocking_section"), io.Address, maxProcs: 1));
            Assert.True(runtime.Join(Deadline), $"round {round}: the program hung (polls made: {io[4]})");
            Assert.Null(runtime.Error);
            AssertNoFailedCheck(io[0], io[1]);
            Assert.Equal(1, io[2]);
            Assert.Equal(77, io[3]);
        }
    }

    [Fact]
    public void AHandleNeverActsOnAnObjectOfAnotherKind()
    {
        using var io = new NativeSlots(0, 0, 0);
        Run(TestPrograms.Get("tp_handle_kinds"), io.Address, maxProcs: 1);
        AssertNoFailedCheck(io[0], io[1]);
        Assert.Equal(1, io[2]);
    }

    [Fact]
    public void MainReturningEndsTheProgramPromptlyWhateverOthersDo()
    {
        // Eight goroutines spin without a runtime call and eight sit in blocking calls
        // when main returns. Run must return after the stop's one grace for them all,
        // as a Go program exits, not after joining each stuck worker in turn (it used
        // to wait 2 s for each).
        using var io = new NativeSlots(0, 0, 8, 8, 0, 0);
        var runtime = new RuntimeThread(() => Run(TestPrograms.Get("tp_stuck_at_exit"), io.Address, maxProcs: 2));
        bool returned = runtime.Join(TimeSpan.FromSeconds(8));
        io[5] = 1; // now the stuck goroutines may end (no thread spins on after the test)
        Assert.True(returned, "Run did not return within 8 s of main returning");
        Assert.Null(runtime.Error);
        AssertNoFailedCheck(io[0], io[1]);
        Assert.Equal(16, io[4]);
    }

    [Fact]
    public void WhenRunReturnsNoGoroutineOfTheRuntimeRunsAnyMore()
    {
        // A goroutine between two switches when main returns (it spins for 200 ms) gets
        // as far as its next switch before Run returns, and never runs after it: Run
        // used to return at once, and the goroutine went on running against a stopped
        // runtime, its released channels and the caller's freed memory.
        using var io = new NativeSlots(0, 0, 0, 0, 0);
        Run(TestPrograms.Get("tp_switch_after_main"), io.Address, maxProcs: 2);
        Assert.Equal(1, io[2]);
        Assert.True(io[3] == 1, "Run returned while a goroutine of the runtime was still running");
        Thread.Sleep(300);
        Assert.True(io[4] == 0, "a goroutine ran after its switch, once the runtime had stopped");
        AssertNoFailedCheck(io[0], io[1]);
    }

    [Fact]
    public void InfiniteDurationsMeanForeverAndOutOfRangeOnesAreRefused()
    {
        TimeSpan tooLong = TimeSpan.MaxValue; // beyond what nanoseconds in an int64 hold
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = Chan.After(tooLong); });
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ticker(tooLong));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ticker(Timeout.InfiniteTimeSpan));
        int sleepRefused = 0, infiniteSleepFired = 0, selectRefused = 0, afterFired = 0, selectTimedOut = 0;
        Run(async () =>
        {
            try { await Sleep(tooLong); }
            catch (ArgumentOutOfRangeException) { sleepRefused = 1; }
            var s = new Select();
            var never = new Chan<int>();
            s.Receive(never);
            try { await s.WaitAsync(tooLong); }
            catch (ArgumentOutOfRangeException) { selectRefused = 1; }
            Go(async () => { await Sleep(Timeout.InfiniteTimeSpan); infiniteSleepFired = 1; });
            Chan<long> after = Chan.After(Timeout.InfiniteTimeSpan);
            var waitForever = new Select();
            waitForever.Receive(never);
            var waiting = waitForever.WaitAsync(Timeout.InfiniteTimeSpan);
            await Sleep(TimeSpan.FromMilliseconds(200));
            afterFired = after.TryReceive(out _) ? 1 : 0;
            selectTimedOut = waiting.IsCompleted ? 1 : 0;
            never.Close(); // ends the select
            await waiting;
        }, maxProcs: 1);
        Assert.Equal(1, sleepRefused);
        Assert.Equal(1, selectRefused);
        Assert.Equal(0, infiniteSleepFired);
        Assert.Equal(0, afterFired);
        Assert.Equal(0, selectTimedOut);
    }

    [Fact]
    public void BlockingChannelCallsAreRefusedOnAWorkerThreadEvenWhenTheyWouldNotBlock()
    {
        Exception? send = null, receive = null;
        Run(async () =>
        {
            var ch = new Chan<int>(capacity: 1);
            send = Record.Exception(() => ch.Send(1));   // there is room: it would not block
            Assert.True(ch.TrySend(2));
            receive = Record.Exception(() => ch.Receive()); // a value is there
            await Task.CompletedTask;
        }, maxProcs: 1);
        Assert.IsType<InvalidOperationException>(send);
        Assert.IsType<InvalidOperationException>(receive);
    }

    [Theory]
    [InlineData("SPINDLE_STACKS", "7")]
    [InlineData("SPINDLE_STACKS", "-1")]
    [InlineData("SPINDLE_STACKS", "segmentd")]
    [InlineData("GOMAXPROCS", "two")]
    [InlineData("GOMAXPROCS", "0")]
    public void BadConfigurationIsAClearError(string variable, string value)
    {
        string? before = Environment.GetEnvironmentVariable(variable);
        GoroutineStacks? stacks = Runtime.StacksSetting;
        Runtime.StacksSetting = null; // follow the environment
        Environment.SetEnvironmentVariable(variable, value);
        try
        {
            var e = Assert.Throws<SpindleException>(() => Run(async () => await Task.CompletedTask));
            Assert.Contains(variable, e.Message);
            Assert.Contains($"'{value}'", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, before);
            Runtime.StacksSetting = stacks;
        }
    }

    [Fact]
    public void GomaxprocsIsCappedAsGoCapsIt()
    {
        string? before = Environment.GetEnvironmentVariable("GOMAXPROCS");
        Environment.SetEnvironmentVariable("GOMAXPROCS", int.MaxValue.ToString());
        try
        {
            int fromEnvironment = 0, fromCall = 0;
            Run(async () =>
            {
                fromEnvironment = GOMAXPROCS(0);
                GOMAXPROCS(int.MaxValue);
                fromCall = GOMAXPROCS(0);
                GOMAXPROCS(2);
                await Task.CompletedTask;
            });
            Assert.Equal(Runtime.MaxGomaxprocs, fromEnvironment);
            Assert.Equal(Runtime.MaxGomaxprocs, fromCall);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GOMAXPROCS", before);
        }
    }
}
