using System.Diagnostics;
using System.Threading.Channels;

namespace Spindle.Cli.Versus;

/// <summary>The .NET Task peer: async methods on the thread pool, Task.Run, and
/// System.Threading.Channels (the single-reader, single-writer unbounded kind for the
/// ping-pong, its fastest). Where a row runs goroutines at GOMAXPROCS n, the tasks run on a
/// scheduler that runs at most n of them at once (ConcurrentExclusiveSchedulerPair), or
/// with Parallel's MaxDegreeOfParallelism n.</summary>
internal static class DotNetTasks
{
    /// <summary>A TaskScheduler over the thread pool that runs at most procs tasks at once.</summary>
    private static TaskScheduler Limited(int procs) =>
        new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, procs).ConcurrentScheduler;

    private static Task Start(TaskScheduler scheduler, Func<Task> body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.None, scheduler).Unwrap();

    /// <summary>Two tasks on a one-at-a-time scheduler each await Task.Yield() n times.</summary>
    public static double YieldNs(Budget b) => Measure.NsPerOp(b, 1000, 1L << 24, n =>
    {
        TaskScheduler one = Limited(1);
        long start = Stopwatch.GetTimestamp();
        Task.WaitAll(Start(one, Yielder), Start(one, Yielder));
        return Measure.NsSince(start) / 2;

        async Task Yielder()
        {
            for (long i = 0; i < n; i++)
                await Task.Yield();
        }
    });

    /// <summary>Two async loops on the thread pool hand a counter back and forth over two
    /// System.Threading.Channels.</summary>
    public static double PingPongNs(Budget b) => Measure.NsPerOp(b, 1000, 1L << 22, n =>
    {
        var options = new UnboundedChannelOptions { SingleReader = true, SingleWriter = true };
        var ping = Channel.CreateUnbounded<long>(options);
        var pong = Channel.CreateUnbounded<long>(options);
        Task partner = Task.Run(async () =>
        {
            for (long i = 0; i < n; i++)
                await pong.Writer.WriteAsync(await ping.Reader.ReadAsync() + 1);
        });
        long start = Stopwatch.GetTimestamp();
        long counter = Task.Run(async () =>
        {
            long v = 0;
            for (long i = 0; i < n; i++)
            {
                await ping.Writer.WriteAsync(v);
                v = await pong.Reader.ReadAsync();
            }
            return v;
        }).Result;
        double ns = Measure.NsSince(start);
        partner.Wait();
        Check(counter == n, "the ping-pong's counter");
        return ns;
    });

    /// <summary>Task.Run of a body that does nothing but count itself done, and the wait for
    /// all of them.</summary>
    public static double SpawnNs(Budget b) => Measure.NsPerOp(b, 1000, 1L << 22, n =>
    {
        long left = n;
        using var done = new ManualResetEventSlim();
        long start = Stopwatch.GetTimestamp();
        for (long i = 0; i < n; i++)
            Task.Run(() =>
            {
                if (Interlocked.Decrement(ref left) == 0)
                    done.Set();
            });
        done.Wait();
        return Measure.NsSince(start);
    });

    /// <summary>A bounded channel of capacity to workers async readers, each returning its
    /// sum; Task.WhenAll collects them.</summary>
    public static double FanoutNs(Budget b, int procs, int workers, int capacity) => Measure.NsPerOp(b, 1000, 1L << 24, n =>
    {
        TaskScheduler limited = Limited(procs);
        var items = Channel.CreateBounded<long>(new BoundedChannelOptions(capacity) { SingleWriter = true });
        long start = Stopwatch.GetTimestamp();
        var readers = new Task<long>[workers];
        for (int w = 0; w < workers; w++)
            readers[w] = Task.Factory.StartNew(async () =>
            {
                long sum = 0;
                await foreach (long v in items.Reader.ReadAllAsync())
                    sum += v;
                return sum;
            }, CancellationToken.None, TaskCreationOptions.None, limited).Unwrap();
        Task writer = Start(limited, async () =>
        {
            for (long v = 1; v <= n; v++)
                await items.Writer.WriteAsync(v);
            items.Writer.Complete();
        });
        long total = Task.WhenAll(readers).Result.Sum();
        double ns = Measure.NsSince(start);
        writer.Wait();
        Check(total == n * (n + 1) / 2, "the fan-out's sum");
        return ns;
    });

    /// <summary>Messages stamped with the time they were sent, alternating between two async
    /// loops over System.Threading.Channels.</summary>
    public static (double Median, double P99) Latency(int samples, int procs)
    {
        long[] taken = new long[samples];
        TaskScheduler limited = Limited(procs);
        var options = new UnboundedChannelOptions { SingleReader = true, SingleWriter = true };
        var toPartner = Channel.CreateUnbounded<long>(options);
        var toMain = Channel.CreateUnbounded<long>(options);
        Task partner = Start(limited, async () =>
        {
            for (int i = 0; i < samples; i += 2)
            {
                long t = await toPartner.Reader.ReadAsync();
                taken[i] = Stopwatch.GetTimestamp() - t;
                if (i + 1 >= samples)
                    break;
                toMain.Writer.TryWrite(Stopwatch.GetTimestamp());
            }
        });
        Thread.Sleep(1); // the partner reaches its read
        Start(limited, async () =>
        {
            for (int i = 0; i < samples; i += 2)
            {
                toPartner.Writer.TryWrite(Stopwatch.GetTimestamp());
                if (i + 1 >= samples)
                    break;
                long t = await toMain.Reader.ReadAsync();
                taken[i + 1] = Stopwatch.GetTimestamp() - t;
            }
        }).Wait();
        partner.Wait();
        return Measure.Percentiles(taken, t => Measure.TicksToNs(t));
    }

    /// <summary>Parallel.For over the jobs, at most procs at once.</summary>
    public static double CpuNs(int jobs, long rounds, int procs, ulong expected)
    {
        ulong[] results = new ulong[jobs + 1];
        long start = Stopwatch.GetTimestamp();
        Parallel.For(1, jobs + 1, new ParallelOptions { MaxDegreeOfParallelism = procs },
            j => results[j] = Measure.Mix((ulong)j, rounds));
        double ns = Measure.NsSince(start);
        Check(Measure.XorAll(results) == expected, "the CPU jobs' result");
        return ns;
    }

    /// <summary>Two tasks on a scheduler of procs at once append digits, awaiting
    /// Task.Yield() every block digits.</summary>
    public static string Interleave(int digits, long workNs, int block, int procs)
    {
        char[] line = new char[2 * digits];
        int length = 0;
        TaskScheduler limited = Limited(procs);
        using var go = new ManualResetEventSlim();
        Task[] writers = [.. "01".Select(digit => Start(limited, async () =>
        {
            go.Wait();
            for (int i = 1; i <= digits; i++)
            {
                long end = Stopwatch.GetTimestamp() + (long)(workNs * Stopwatch.Frequency / 1e9);
                while (Stopwatch.GetTimestamp() < end)
                {
                }
                line[Interlocked.Increment(ref length) - 1] = digit;
                if (i % block == 0)
                    await Task.Yield();
            }
        }))];
        go.Set();
        Task.WaitAll(writers);
        return new string(line);
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
            throw new InvalidOperationException($"spindle versus: {what} is wrong: the tasks did not run as they should");
    }
}
