using System.Diagnostics;

namespace Spindle.Cli.Versus;

/// <summary>The OS thread peer: one System.Threading.Thread per unit, blocking in Monitor
/// (a lock and a condition, the shared-memory way). Where a row runs goroutines at
/// GOMAXPROCS n, the threads are pinned to n CPUs (sched_setaffinity), the kernel's
/// analogue: otherwise the kernel spreads them over every CPU.</summary>
internal static class OsThreads
{
    /// <summary>Starts count threads, each pinned to pin CPUs (0: not pinned), runs
    /// body(i) on each once all have started, and joins them; returns the nanoseconds from
    /// the start signal to the last join.</summary>
    public static double RunThreads(int count, int pin, Action<int> body, int stackSize = 0)
    {
        using var ready = new CountdownEvent(count);
        using var go = new ManualResetEventSlim();
        Exception? failure = null;
        var threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            int index = i;
            threads[i] = new Thread(() =>
            {
                if (pin > 0 && !SystemInfo.PinCurrentThread(pin))
                    failure ??= new InvalidOperationException($"cannot pin a thread to {pin} CPUs");
                ready.Signal();
                go.Wait();
                try
                {
                    body(index);
                }
                catch (Exception e)
                {
                    failure ??= e;
                }
            }, stackSize) { IsBackground = true, Name = "spindle versus" };
            threads[i].Start();
        }
        ready.Wait();
        long start = Stopwatch.GetTimestamp();
        go.Set();
        foreach (Thread t in threads)
            t.Join();
        double ns = Measure.NsSince(start);
        if (failure is not null)
            throw new InvalidOperationException($"spindle versus: a thread failed: {failure.Message}", failure);
        return ns;
    }

    /// <summary>A one-value mailbox between threads: a lock and a condition (Monitor), the
    /// hand-off threads sharing memory use.</summary>
    private sealed class Mailbox
    {
        private readonly object _gate = new(); // Monitor's, for Wait and Pulse
        private long _value;
        private int _for = -1;

        public void Send(int to, long value)
        {
            lock (_gate)
            {
                _value = value;
                _for = to;
                Monitor.Pulse(_gate); // one waiter at most: the receiver
            }
        }

        public long Receive(int me)
        {
            lock (_gate)
            {
                while (_for != me)
                    Monitor.Wait(_gate);
                _for = -1;
                return _value;
            }
        }
    }

    /// <summary>Two threads on one CPU call Thread.Yield (sched_yield) n times each.</summary>
    public static double YieldNs(Budget b) =>
        Measure.NsPerOp(b, 1000, 1L << 24, n => RunThreads(2, 1, _ =>
        {
            for (long i = 0; i < n; i++)
                Thread.Yield();
        }) / 2);

    /// <summary>Two threads on one CPU hand a counter back and forth through the mailbox.</summary>
    public static double PingPongNs(Budget b) => Measure.NsPerOp(b, 100, 1L << 22, n =>
    {
        var box = new Mailbox();
        long counter = 0;
        double ns = RunThreads(2, 1, me =>
        {
            if (me == 0)
            {
                long v = 0;
                for (long i = 0; i < n; i++)
                {
                    box.Send(1, v);
                    v = box.Receive(0);
                }
                counter = v;
            }
            else
            {
                for (long i = 0; i < n; i++)
                    box.Send(0, box.Receive(1) + 1);
            }
        });
        Check(counter == n, "the ping-pong's counter");
        return ns;
    });

    /// <summary>new Thread(...).Start() of a body that does nothing, and Join, in batches of
    /// 64 (at most that many at once).</summary>
    public static double SpawnNs(Budget b) => Measure.NsPerOp(b, 64, 1L << 20, n =>
    {
        const int Batch = 64;
        var batch = new Thread[Batch];
        long start = Stopwatch.GetTimestamp();
        for (long done = 0; done < n; done += Batch)
        {
            int count = (int)Math.Min(Batch, n - done);
            for (int i = 0; i < count; i++)
            {
                batch[i] = new Thread(static () => { }) { IsBackground = true };
                batch[i].Start();
            }
            for (int i = 0; i < count; i++)
                batch[i].Join();
        }
        return Measure.NsSince(start);
    });

    /// <summary>A bounded queue of capacity under a lock with two conditions' worth of
    /// Monitor waits; workers threads sum what they take, and add it to a shared total.</summary>
    public static double FanoutNs(Budget b, int procs, int workers, int capacity) => Measure.NsPerOp(b, 1000, 1L << 24, n =>
    {
        var gate = new object();
        var queue = new Queue<long>(capacity);
        bool closed = false;
        long total = 0;
        double ns = RunThreads(workers + 1, procs, me =>
        {
            if (me == workers) // the producer
            {
                for (long v = 1; v <= n; v++)
                {
                    lock (gate)
                    {
                        while (queue.Count == capacity)
                            Monitor.Wait(gate);
                        queue.Enqueue(v);
                        Monitor.PulseAll(gate);
                    }
                }
                lock (gate)
                {
                    closed = true;
                    Monitor.PulseAll(gate);
                }
                return;
            }
            long sum = 0;
            while (true)
            {
                long v;
                lock (gate)
                {
                    while (queue.Count == 0 && !closed)
                        Monitor.Wait(gate);
                    if (queue.Count == 0)
                        break;
                    v = queue.Dequeue();
                    Monitor.PulseAll(gate);
                }
                sum += v;
            }
            Interlocked.Add(ref total, sum);
        });
        Check(total == n * (n + 1) / 2, "the fan-out's sum");
        return ns;
    });

    /// <summary>Messages stamped with the time they were sent, alternating between two
    /// threads through the mailbox (each finds the other waiting).</summary>
    public static (double Median, double P99) Latency(int samples, int procs)
    {
        long[] taken = new long[samples];
        var box = new Mailbox();
        RunThreads(2, procs, me =>
        {
            for (int i = 0; i < samples; i += 2)
            {
                if (me == 0)
                {
                    box.Send(1, Stopwatch.GetTimestamp());
                    if (i + 1 >= samples)
                        break;
                    long t = box.Receive(0);
                    taken[i + 1] = Stopwatch.GetTimestamp() - t;
                }
                else
                {
                    long t = box.Receive(1);
                    taken[i] = Stopwatch.GetTimestamp() - t;
                    if (i + 1 >= samples)
                        break;
                    box.Send(0, Stopwatch.GetTimestamp());
                }
            }
        });
        return Measure.Percentiles(taken, t => Measure.TicksToNs(t));
    }

    /// <summary>jobs threads, one job each, pinned to procs CPUs.</summary>
    public static double CpuNs(int jobs, long rounds, int procs, ulong expected)
    {
        ulong[] results = new ulong[jobs + 1];
        double ns = RunThreads(jobs, procs, i => results[i + 1] = Measure.Mix((ulong)(i + 1), rounds));
        Check(Measure.XorAll(results) == expected, "the CPU jobs' result");
        return ns;
    }

    /// <summary>Two threads pinned to procs CPUs append digits, without yielding: the
    /// kernel decides when each runs.</summary>
    public static string Interleave(int digits, long workNs, int procs)
    {
        char[] line = new char[2 * digits];
        int length = 0;
        RunThreads(2, procs, me =>
        {
            char digit = (char)('0' + me);
            for (int i = 1; i <= digits; i++)
            {
                long end = Stopwatch.GetTimestamp() + (long)(workNs * Stopwatch.Frequency / 1e9);
                while (Stopwatch.GetTimestamp() < end)
                {
                }
                line[Interlocked.Increment(ref length) - 1] = digit;
            }
        });
        return new string(line);
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
            throw new InvalidOperationException($"spindle versus: {what} is wrong: the threads did not run as they should");
    }
}
