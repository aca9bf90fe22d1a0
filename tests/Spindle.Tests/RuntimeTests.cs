using Xunit;
using static Spindle.Runtime;

namespace Spindle.Tests;

public class RuntimeTests
{
    [Fact]
    public void SteadyStateYieldSwitchesAllocateNothing()
    {
        // 100,000 yields by each of two native goroutines on one P: 200,000 switches
        // through the scheduler. The worker's own thread must allocate nothing (the
        // process total also counts the test runner's and earlier tests' threads).
        var (probe, io) = AllocationProbe.RunOnOneWorker("tp_yield_pair_measured", 100_000);
        using var _ = probe;
        Assert.Equal(2, io[1]);
        Assert.True(probe.RanUndisturbed); // one worker ran the whole loop, its P never taken
        Assert.Equal(0, probe.ThreadBytes);
    }

    [Fact]
    public void ManagedAndNativeGoroutinesShareTheProcessors()
    {
        using var io = new NativeSlots(2000, 0);
        var seen = new List<long>();
        int managedSteps = 0;
        Run(async () =>
        {
            Go(TestPrograms.Get("tp_count_steps"), io.Address);
            var wg = new WaitGroup();
            wg.Add(1);
            Go(async () =>
            {
                for (int i = 0; i < 100; i++)
                {
                    seen.Add(io[1]);
                    managedSteps++;
                    await Yield();
                }
                wg.Done();
            });
            await wg.WaitAsync();
            while (io[1] < 2000)
                await Yield();
        }, maxProcs: 1);
        Assert.Equal(100, managedSteps);
        Assert.Equal(2000, io[1]);
        // On one P they alternate: the native count moves between managed steps.
        int advanced = seen.Zip(seen.Skip(1)).Count(pair => pair.Second > pair.First);
        Assert.True(advanced > 50, $"the native goroutine advanced between only {advanced} of 99 managed steps");
    }

    [Fact]
    public void ManagedSleepersNeverWakeEarlyAndAllWake()
    {
        // Which of two sleepers wakes first is the machine's to decide when their deadlines
        // are close and it is loaded; that none wakes before its deadline is the runtime's
        // promise.
        var slept = new TimeSpan[5];
        var woke = new bool[5];
        Run(async () =>
        {
            var wg = new WaitGroup();
            for (int i = 0; i < 5; i++)
            {
                int me = i;
                wg.Add(1);
                Go(async () =>
                {
                    var watch = System.Diagnostics.Stopwatch.StartNew();
                    await Sleep(TimeSpan.FromMilliseconds(10 * (5 - me)));
                    slept[me] = watch.Elapsed;
                    woke[me] = true;
                    wg.Done();
                });
            }
            await wg.WaitAsync();
        }, maxProcs: 2);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(woke[i], $"sleeper {i} never woke");
            Assert.True(slept[i] >= TimeSpan.FromMilliseconds(10 * (5 - i)), $"sleeper {i} slept {slept[i]}");
        }
    }

    [Fact]
    public void AMainGoroutineThatEndsOnTheThreadPoolEndsTheRun()
    {
        // After ConfigureAwait(false) the body goes on, and ends, outside the runtime: no
        // step of the goroutine sees it end, its Task's completion must.
        int after = 0;
        CancellationTests.RunBounded(async () =>
        {
            await Task.Delay(1).ConfigureAwait(false);
            after = 1;
        }, maxProcs: 1);
        Assert.Equal(1, after);
    }

    [Fact]
    public void AGoroutineThatFailsOnTheThreadPoolFailsTheRun()
    {
        var e = Assert.Throws<Xunit.Sdk.XunitException>(() => CancellationTests.RunBounded(async () =>
        {
            var done = new Chan<int>();
            Go(async () =>
            {
                await Task.Delay(1).ConfigureAwait(false);
                throw new InvalidOperationException("failed off the goroutine");
            });
            await done.ReceiveAsync(); // never: the other goroutine's failure ends the program
        }, maxProcs: 2));
        Assert.Contains("failed off the goroutine", e.Message);
    }

    [Fact]
    public void GomaxprocsChangesWhileGoroutinesRun()
    {
        using var io = new NativeSlots(8, 0, 0);
        var peaks = new List<(int Procs, int Peak)>();
        Run(async () =>
        {
            Go(TestPrograms.Get("tp_start_busy"), io.Address);
            foreach (int n in new[] { 1, 3, 2, 1, 4, 2 })
            {
                GOMAXPROCS(n);
                Assert.Equal(n, GOMAXPROCS(0));
                await Sleep(TimeSpan.FromMilliseconds(30));
                peaks.Add((n, Stats.PeakRunningWorkers));
            }
            io[1] = 1;
            while (io[2] < 8)
                await Sleep(TimeSpan.FromMilliseconds(1));
        }, maxProcs: 2);
        foreach (var (procs, peak) in peaks)
            Assert.True(peak <= procs, $"{peak} workers ran goroutines at once under GOMAXPROCS={procs}");
        Assert.Contains(peaks, x => x.Procs >= 2 && x.Peak >= 2); // and they did run in parallel
    }

    [Fact]
    public void DumpOnDemandShowsWhatEachGoroutineWaitsOn()
    {
        IReadOnlyList<GoroutineInfo>? dump = null;
        using var io = new NativeSlots(200_000_000);
        Run(async () =>
        {
            Go(TestPrograms.Get("tp_sleep_then_return"), io.Address);
            await Sleep(TimeSpan.FromMilliseconds(20));
            dump = Dump();
        }, maxProcs: 2);
        Assert.NotNull(dump);
        Assert.Equal(2, dump!.Count);
        Assert.Contains(dump, g => g.Kind == GoroutineKind.Native && g.State == GoroutineState.Waiting &&
                                   g.Reason == WaitReason.Sleep && g.TimeInState >= TimeSpan.FromMilliseconds(10));
        Assert.Contains(dump, g => g.Kind == GoroutineKind.Managed && g.State == GoroutineState.Running);
    }

    [Fact]
    public void AFailingGoroutineEndsTheProgram()
    {
        var e = Assert.Throws<GoroutineFailedException>(() => Run(async () =>
        {
            Go(() => throw new InvalidOperationException("boom"));
            await Sleep(TimeSpan.FromSeconds(5));
        }, maxProcs: 1));
        Assert.IsType<InvalidOperationException>(e.InnerException);
    }

    [Fact]
    public void WaitGroupMadeBeforeRunAndUsedFromPlainThreads()
    {
        var wg = new WaitGroup();
        Assert.Throws<InvalidOperationException>(() => wg.Done()); // below zero: refused
        Assert.Equal(0, wg.Count);                                  // and left as it was
        wg.Add(2);
        var outside = new Thread(() => wg.Done());
        Run(async () =>
        {
            outside.Start(); // a plain thread finishes one part
            Go(async () => { await Sleep(TimeSpan.FromMilliseconds(5)); wg.Done(); });
            await wg.WaitAsync();
            Assert.Throws<InvalidOperationException>(() => wg.Wait()); // would block a worker
        }, maxProcs: 2);
        outside.Join();
        Assert.Equal(0, wg.Count);
        wg.Wait(); // a plain thread returns at once at zero
    }

    [Fact]
    public void OnlyOneRuntimeAtATime()
    {
        Run(() =>
        {
            Assert.Throws<InvalidOperationException>(() => Run(() => Task.CompletedTask));
            return Task.CompletedTask;
        }, maxProcs: 1);
    }
}
