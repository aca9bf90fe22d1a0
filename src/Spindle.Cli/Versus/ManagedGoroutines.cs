using System.Diagnostics;

namespace Spindle.Cli.Versus;

/// <summary>The managed goroutine peer: the same programs as native/demos/versus.c, as C#
/// async lambdas on Spindle (Runtime.Go, Chan&lt;long&gt;, WaitGroup, Runtime.Yield), each
/// in a fresh runtime, timed inside the main goroutine.</summary>
internal static class ManagedGoroutines
{
    /// <summary>Runs main as the main goroutine at procs; returns what it returned.</summary>
    private static T Run<T>(int procs, Func<Task<T>> main)
    {
        T result = default!;
        Runtime.Run(async () => result = await main(), procs);
        return result;
    }

    public static double YieldNs(Budget b) => Measure.NsPerOp(b, 1000, 1L << 24, n => Run(1, async () =>
    {
        var wg = new WaitGroup();
        wg.Add(2);
        long start = Stopwatch.GetTimestamp();
        for (int g = 0; g < 2; g++)
            Runtime.Go(async () =>
            {
                for (long i = 0; i < n; i++)
                    await Runtime.Yield();
                wg.Done();
            });
        await wg.WaitAsync();
        return Measure.NsSince(start) / 2;
    }));

    public static double PingPongNs(Budget b) => Measure.NsPerOp(b, 1000, 1L << 24, n => Run(1, async () =>
    {
        var ping = new Chan<long>();
        var pong = new Chan<long>();
        Runtime.Go(async () =>
        {
            for (long i = 0; i < n; i++)
                await pong.SendAsync(await ping.ReceiveAsync() + 1);
        });
        long start = Stopwatch.GetTimestamp();
        long v = 0;
        for (long i = 0; i < n; i++)
        {
            await ping.SendAsync(v);
            v = await pong.ReceiveAsync();
        }
        double ns = Measure.NsSince(start);
        Check(v == n, "the ping-pong's counter");
        return ns;
    }));

    public static double SpawnNs(Budget b, int procs) => Measure.NsPerOp(b, 1000, 1L << 22, n => Run(procs, async () =>
    {
        var wg = new WaitGroup();
        long start = Stopwatch.GetTimestamp();
        wg.Add((int)n);
        for (long i = 0; i < n; i++)
#pragma warning disable CS1998 // a body that finishes without awaiting, as many Go(async () => ...) ones do
            Runtime.Go(async () => wg.Done());
#pragma warning restore CS1998
        await wg.WaitAsync();
        return Measure.NsSince(start);
    }));

    public static double FanoutNs(Budget b, int procs, int workers, int capacity) => Measure.NsPerOp(b, 1000, 1L << 24, n => Run(procs, async () =>
    {
        var items = new Chan<long>(capacity);
        var sums = new Chan<long>(workers);
        var wg = new WaitGroup();
        long start = Stopwatch.GetTimestamp();
        wg.Add(workers);
        for (int w = 0; w < workers; w++)
            Runtime.Go(async () =>
            {
                long sum = 0;
                while (true)
                {
                    (long v, bool ok) = await items.ReceiveOkAsync();
                    if (!ok)
                        break;
                    sum += v;
                }
                await sums.SendAsync(sum);
                wg.Done();
            });
        for (long v = 1; v <= n; v++)
            await items.SendAsync(v);
        items.Close();
        await wg.WaitAsync();
        long total = 0;
        for (int w = 0; w < workers; w++)
            total += await sums.ReceiveAsync();
        double ns = Measure.NsSince(start);
        Check(total == n * (n + 1) / 2, "the fan-out's sum");
        return ns;
    }));

    public static (double Median, double P99) Latency(int samples, int procs)
    {
        long[] taken = new long[samples];
        Run(procs, async () =>
        {
            var toPartner = new Chan<long>();
            var toMain = new Chan<long>();
            var done = new WaitGroup();
            done.Add(1);
            Runtime.Go(async () =>
            {
                for (int i = 0; i < samples; i += 2)
                {
                    long t = await toPartner.ReceiveAsync();
                    taken[i] = Stopwatch.GetTimestamp() - t;
                    if (i + 1 >= samples)
                        break;
                    await toMain.SendAsync(Stopwatch.GetTimestamp());
                }
                done.Done();
            });
            await Runtime.Sleep(TimeSpan.FromMilliseconds(1)); // the partner reaches its receive
            for (int i = 0; i < samples; i += 2)
            {
                await toPartner.SendAsync(Stopwatch.GetTimestamp());
                if (i + 1 >= samples)
                    break;
                long t = await toMain.ReceiveAsync();
                taken[i + 1] = Stopwatch.GetTimestamp() - t;
            }
            await done.WaitAsync();
            return 0;
        });
        return Measure.Percentiles(taken, t => Measure.TicksToNs(t));
    }

    public static double CpuNs(int jobs, long rounds, int procs, ulong expected) => Run(procs, async () =>
    {
        long chunk = Math.Max(1, rounds / NativeGoroutines.CpuChunks);
        ulong[] results = new ulong[jobs + 1];
        var wg = new WaitGroup();
        long start = Stopwatch.GetTimestamp();
        wg.Add(jobs);
        for (int j = 1; j <= jobs; j++)
        {
            int job = j;
            Runtime.Go(async () =>
            {
                ulong x = (ulong)job;
                for (long done = 0; done < rounds; done += chunk)
                {
                    x = Measure.Mix(x, Math.Min(chunk, rounds - done));
                    await Runtime.Yield();
                }
                results[job] = x;
                wg.Done();
            });
        }
        await wg.WaitAsync();
        double ns = Measure.NsSince(start);
        Check(Measure.XorAll(results) == expected, "the CPU jobs' result");
        return ns;
    });

    public static string Interleave(int digits, long workNs, int block, int procs) => Run(procs, async () =>
    {
        char[] line = new char[2 * digits];
        int length = 0;
        var wg = new WaitGroup();
        wg.Add(2);
        foreach (char digit in "01")
            Runtime.Go(async () =>
            {
                for (int i = 1; i <= digits; i++)
                {
                    long end = Stopwatch.GetTimestamp() + (long)(workNs * Stopwatch.Frequency / 1e9);
                    while (Stopwatch.GetTimestamp() < end)
                    {
                    }
                    line[Interlocked.Increment(ref length) - 1] = digit;
                    if (i % block == 0)
                        await Runtime.Yield();
                }
                wg.Done();
            });
        await wg.WaitAsync();
        return new string(line);
    });

    private static void Check(bool ok, string what)
    {
        if (!ok)
            throw new InvalidOperationException($"spindle versus: {what} is wrong: the managed program did not run as it should");
    }
}
