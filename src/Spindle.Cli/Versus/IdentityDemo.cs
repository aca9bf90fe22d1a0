using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Spindle.Cli.Versus;

/// <summary>What "goroutines have no identity" means, shown: a unit stores a value in a
/// thread-local and in its own local storage, then sleeps until it wakes on another OS
/// thread. A managed goroutine's [ThreadStatic] value stayed behind on the old worker,
/// its <see cref="GoroutineLocal{T}"/> value came along; a Task's [ThreadStatic] value stays
/// behind too, its AsyncLocal&lt;T&gt; comes along; a thread never moves. Each result says
/// what it observed, and <see cref="Outcome.Claims"/> what that shows; the caller fails
/// when a claim does not hold.</summary>
internal static class IdentityDemo
{
    [ThreadStatic] private static string? t_mark;
    private static readonly GoroutineLocal<string?> s_mark = new();
    private static readonly AsyncLocal<string?> s_asyncMark = new();

    /// <summary>What one demonstration observed.</summary>
    /// <param name="Moved">It woke on another thread within the sleeps allowed.</param>
    /// <param name="Sleeps">The sleeps it took.</param>
    /// <param name="FirstThread">The managed thread id it started on.</param>
    /// <param name="LastThread">The one it ended on.</param>
    /// <param name="Mark">The value it stored.</param>
    /// <param name="ThreadLocalAfter">Its [ThreadStatic] value after the last sleep.</param>
    /// <param name="OwnLocalAfter">Its own local value (GoroutineLocal, AsyncLocal) after.</param>
    /// <param name="OwnLocalAtEverySleep">The own local value read the same after every sleep.</param>
    /// <param name="OtherSaw">What another unit started afterwards read from the same local
    /// (goroutines only), or null.</param>
    public sealed record Outcome(bool Moved, int Sleeps, int FirstThread, int LastThread, string Mark,
        string? ThreadLocalAfter, string? OwnLocalAfter, bool OwnLocalAtEverySleep, string? OtherSaw)
    {
        /// <summary>What it shows, for a unit that moves: each must hold.</summary>
        public IEnumerable<(string Text, bool Held)> Claims(string unit, string ownLocal)
        {
            if (!Moved)
                yield break;
            yield return ($"a {unit} resumed on another OS thread (thread {FirstThread}, then {LastThread}, after {Sleeps} sleeps)",
                FirstThread != LastThread);
            yield return ($"its [ThreadStatic] value stayed behind on thread {FirstThread} (on thread {LastThread} it reads {Show(ThreadLocalAfter)})",
                ThreadLocalAfter != Mark);
            yield return ($"its {ownLocal} value came along ({Show(OwnLocalAfter)}, and the same after every sleep)",
                OwnLocalAfter == Mark && OwnLocalAtEverySleep);
            if (unit == "managed goroutine")
                yield return ($"another goroutine started afterwards reads its own {ownLocal} value, not this one's ({Show(OtherSaw)})",
                    OtherSaw is null);
        }

        private static string Show(string? s) => s is null ? "null" : $"\"{s}\"";
    }

    /// <summary>A managed goroutine at procs processors sleeps sleep at a time, at most
    /// maxSleeps times, until it wakes on another worker thread.</summary>
    public static Outcome OfGoroutine(int procs, int maxSleeps, TimeSpan sleep)
    {
        Outcome? outcome = null;
        Runtime.Run(async () =>
        {
            int first = Environment.CurrentManagedThreadId;
            string mark = $"set on thread {first}";
            t_mark = mark;
            s_mark.Value = mark;
            bool kept = true;
            int sleeps = 0;
            while (Environment.CurrentManagedThreadId == first && sleeps < maxSleeps)
            {
                await Runtime.Sleep(sleep);
                sleeps++;
                kept &= s_mark.Value == mark;
            }
            int last = Environment.CurrentManagedThreadId;
            string? threadLocal = t_mark, own = s_mark.Value;
            string? other = "not read";
            var wg = new WaitGroup();
            wg.Add(1);
#pragma warning disable CS1998 // it reads and ends
            Runtime.Go(async () =>
            {
                other = s_mark.Value;
                wg.Done();
            });
#pragma warning restore CS1998
            await wg.WaitAsync();
            outcome = new Outcome(last != first, sleeps, first, last, mark, threadLocal, own, kept, other);
        }, procs);
        return outcome!;
    }

    /// <summary>A Task on the thread pool awaits Task.Delay until it resumes on another pool
    /// thread.</summary>
    public static Outcome OfTask(int maxSleeps, TimeSpan sleep) => Task.Run(async () =>
    {
        int first = Environment.CurrentManagedThreadId;
        string mark = $"set on thread {first}";
        t_mark = mark;
        s_asyncMark.Value = mark;
        bool kept = true;
        int sleeps = 0;
        while (Environment.CurrentManagedThreadId == first && sleeps < maxSleeps)
        {
            await Task.Delay(sleep);
            sleeps++;
            kept &= s_asyncMark.Value == mark;
        }
        int last = Environment.CurrentManagedThreadId;
        string? threadLocal = t_mark;
        t_mark = null;
        return new Outcome(last != first, sleeps, first, last, mark, threadLocal, s_asyncMark.Value, kept, null);
    }).Result;

    /// <summary>A thread sleeps sleeps times: it is still itself, and so is its [ThreadStatic] value.</summary>
    public static (bool Kept, int Sleeps) OfThread(int sleeps, TimeSpan sleep)
    {
        bool kept = true;
        var t = new Thread(() =>
        {
            int first = Environment.CurrentManagedThreadId;
            t_mark = "mine";
            for (int i = 0; i < sleeps; i++)
            {
                Thread.Sleep(sleep);
                kept &= t_mark == "mine" && Environment.CurrentManagedThreadId == first;
            }
        });
        t.Start();
        t.Join();
        return (kept, sleeps);
    }

    // ------------------------------------------------------------ the cost of a read

    [ThreadStatic] private static long t_counter;
    private static readonly ThreadLocal<long> s_threadLocal = new(() => 1);
    private static readonly GoroutineLocal<long> s_goroutineCounter = new(() => 1);
    private static readonly AsyncLocal<long> s_asyncCounter = new();

    // Each read through a call that is not inlined, so that no loop can keep the value in
    // a register: the figures compare the reads, each with the same call around it.
    [MethodImpl(MethodImplOptions.NoInlining)] private static long ReadThreadStatic() => t_counter;
    [MethodImpl(MethodImplOptions.NoInlining)] private static long ReadGoroutineLocal() => s_goroutineCounter.Value;
    [MethodImpl(MethodImplOptions.NoInlining)] private static long ReadAsyncLocal() => s_asyncCounter.Value;

    private static double ReadNs(Budget b, Func<long> read) => Measure.NsPerOp(b, 10_000, 1L << 28, n =>
    {
        long sum = 0;
        long start = Stopwatch.GetTimestamp();
        for (long i = 0; i < n; i++)
            sum += read();
        double ns = Measure.NsSince(start);
        GC.KeepAlive(sum);
        return ns;
    });

    /// <summary>A [ThreadStatic] read on a thread, in ns.</summary>
    public static double ThreadStaticReadNs(Budget b)
    {
        t_counter = 1;
        return ReadNs(b, ReadThreadStatic);
    }

    /// <summary>A ThreadLocal&lt;long&gt; read, in ns.</summary>
    public static double ThreadLocalReadNs(Budget b) => ReadNs(b, () => s_threadLocal.Value);

    /// <summary>A GoroutineLocal&lt;long&gt; read inside a managed goroutine, in ns (every run
    /// inside one step, between two waits).</summary>
    public static double GoroutineLocalReadNs(Budget b)
    {
        double ns = 0;
#pragma warning disable CS1998 // it measures within one step
        Runtime.Run(async () =>
        {
            s_goroutineCounter.Value = 1;
            ns = ReadNs(b, ReadGoroutineLocal);
        }, 1);
#pragma warning restore CS1998
        return ns;
    }

    /// <summary>An AsyncLocal&lt;long&gt; read inside a Task, in ns.</summary>
    public static double AsyncLocalReadNs(Budget b) => Task.Run(() =>
    {
        s_asyncCounter.Value = 1;
        return ReadNs(b, ReadAsyncLocal);
    }).Result;
}
