using System.Globalization;
using System.Runtime.InteropServices;

namespace Spindle.Cli.Versus;

/// <summary>What `spindle versus` reads from the machine: resident memory, the processors
/// this process may use and how to pin a thread to some of them, and the limits on how
/// many threads the kernel lets it make. Linux reads /proc; elsewhere each answer says it
/// has none.</summary>
internal static partial class SystemInfo
{
    /// <summary>Resident bytes of this process (/proc/self/statm, as the native and Go park
    /// programs read it), or -1.</summary>
    public static long ResidentBytes() => StatmField(1);

    /// <summary>Virtual bytes of this process (/proc/self/statm), or -1.</summary>
    public static long VirtualBytes() => StatmField(0);

    private static long StatmField(int index)
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[index], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }

    /// <summary>A number in a /proc or /sys file (its first word), or null; "max" reads as
    /// long.MaxValue.</summary>
    public static long? ReadNumber(string path)
    {
        try
        {
            string text = File.ReadAllText(path).Trim().Split((char[]?)null, 2)[0];
            if (text == "max")
                return long.MaxValue;
            return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A "Name: value kB" line of a /proc file such as /proc/meminfo, in bytes, or null.</summary>
    public static long? ReadKilobytes(string path, string name)
    {
        try
        {
            foreach (string line in File.ReadLines(path))
                if (line.StartsWith(name + ":", StringComparison.Ordinal))
                {
                    string[] words = line[(name.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(words[0], CultureInfo.InvariantCulture) * (words.Length > 1 && words[1] == "kB" ? 1024 : 1);
                }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }

    // ------------------------------------------------------------ processors

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int sched_getaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int sched_setaffinity(int pid, nuint size, ulong* mask);

    private const int MaskWords = 16; // 1024 CPUs, glibc's cpu_set_t

    /// <summary>The CPUs this process may run on, in order, or null where that cannot be
    /// told (not Linux).</summary>
    public static unsafe int[]? AllowedCpus()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        ulong* mask = stackalloc ulong[MaskWords];
        if (sched_getaffinity(0, MaskWords * sizeof(ulong), mask) != 0)
            return null;
        var cpus = new List<int>();
        for (int i = 0; i < MaskWords * 64; i++)
            if ((mask[i / 64] & (1UL << (i % 64))) != 0)
                cpus.Add(i);
        return [.. cpus];
    }

    /// <summary>Pins the calling thread to the first count CPUs it may use (the OS's
    /// analogue of GOMAXPROCS); false where it cannot (not Linux, or fewer CPUs).</summary>
    public static unsafe bool PinCurrentThread(int count)
    {
        int[]? cpus = s_allowed ??= AllowedCpus();
        if (cpus is null || cpus.Length < count)
            return false;
        ulong* mask = stackalloc ulong[MaskWords];
        for (int i = 0; i < MaskWords; i++)
            mask[i] = 0;
        for (int i = 0; i < count; i++)
            mask[cpus[i] / 64] |= 1UL << (cpus[i] % 64);
        return sched_setaffinity(0, MaskWords * sizeof(ulong), mask) == 0;
    }

    private static int[]? s_allowed;

    /// <summary>Whether threads can be pinned here.</summary>
    public static bool CanPin => OperatingSystem.IsLinux() && (s_allowed ??= AllowedCpus()) is { Length: > 0 };

    // ------------------------------------------------------------ thread limits

    /// <summary>How many more threads this process may start without the machine refusing,
    /// and which limit says so: the smallest of the kernel's threads-max, the cgroup's
    /// pids.max, RLIMIT_NPROC (not for root), vm.max_map_count (over the mappings a thread
    /// adds, measured) and the memory available (64 KiB a thread, counting what the
    /// kernel keeps for it), less what is in use. Of what the machine shares with other
    /// programs (all but the mappings, which are this process's own) it takes half, so
    /// that a measurement never starves them; of the mappings, nine tenths.</summary>
    public static (long Threads, string Limit) ThreadHeadroom()
    {
        if (!OperatingSystem.IsLinux())
            return (long.MaxValue, "no limits read (not Linux)");
        var limits = new List<(long Left, string Name)>();
        long running = RunningThreads();
        if (ReadNumber("/proc/sys/kernel/threads-max") is long threadsMax)
            limits.Add(((threadsMax - running) / 2, Inv($"kernel.threads-max {threadsMax:N0}")));
        if (ReadNumber("/sys/fs/cgroup/pids.max") is long pidsMax && pidsMax != long.MaxValue)
            limits.Add(((pidsMax - (ReadNumber("/sys/fs/cgroup/pids.current") ?? 0)) / 2, Inv($"cgroup pids.max {pidsMax:N0}")));
        if (Environment.UserName != "root" && ProcessLimit() is long nproc)
            limits.Add(((nproc - running) / 2, Inv($"ulimit -u {nproc:N0}")));
        if (ReadNumber("/proc/sys/vm/max_map_count") is long maps)
        {
            double perThread = MappingsPerThread();
            limits.Add(((long)((maps - MappingsNow()) / perThread) * 9 / 10,
                Inv($"vm.max_map_count {maps:N0}, {perThread:0.#} mappings a thread (measured)")));
        }
        if (ReadKilobytes("/proc/meminfo", "MemAvailable") is long available)
            limits.Add((available / (64 * 1024) / 2, Inv($"MemAvailable {available / (1024 * 1024):N0} MiB (64 KiB a thread)")));
        if (limits.Count == 0)
            return (long.MaxValue, "no limits read");
        var tightest = limits.MinBy(l => l.Left);
        return (Math.Max(0, tightest.Left - 500), tightest.Name);
    }

    /// <summary>RLIMIT_NPROC from /proc/self/limits, or null when unlimited or unread.</summary>
    public static long? ProcessLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
                if (line.StartsWith("Max processes", StringComparison.Ordinal))
                {
                    string soft = line["Max processes".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.TryParse(soft, out long n) ? n : null;
                }
        }
        catch (IOException)
        {
        }
        return null;
    }

    /// <summary>Threads running on the machine (the fourth field of /proc/loadavg: "running/total").</summary>
    private static long RunningThreads()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return long.Parse(fields[3].Split('/')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    private static double? s_mappingsPerThread;

    /// <summary>The memory mappings one more thread of this runtime adds to the process
    /// (its stack, guard, alternate signal stack and whatever else the runtime maps for it),
    /// measured once: 64 threads are started, counted in /proc/self/maps while they block,
    /// then released. At least 2 (a stack and its guard), the fewest any thread takes.</summary>
    public static double MappingsPerThread()
    {
        if (s_mappingsPerThread is double known)
            return known;
        const int Probe = 64;
        using var release = new ManualResetEventSlim();
        int started = 0;
        var threads = new Thread[Probe];
        long before = MappingsNow();
        for (int i = 0; i < Probe; i++)
        {
            threads[i] = new Thread(() =>
            {
                Interlocked.Increment(ref started);
                release.Wait();
            }) { IsBackground = true };
            threads[i].Start();
        }
        while (Volatile.Read(ref started) < Probe)
            Thread.Sleep(1);
        long after = MappingsNow();
        release.Set();
        foreach (Thread t in threads)
            t.Join();
        double each = Math.Max(2, (double)(after - before) / Probe);
        s_mappingsPerThread = each;
        return each;
    }

    private static long MappingsNow()
    {
        try
        {
            return File.ReadLines("/proc/self/maps").LongCount();
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>A line about the limits on threads, for the report.</summary>
    public static string ThreadLimitsLine()
    {
        if (!OperatingSystem.IsLinux())
            return "not Linux: no thread limits read";
        var parts = new List<string>();
        if (ReadNumber("/proc/sys/kernel/threads-max") is long t)
            parts.Add(Inv($"threads-max {t:N0}"));
        parts.Add(ProcessLimit() is long u ? Inv($"ulimit -u {u:N0}{(Environment.UserName == "root" ? " (root: not enforced)" : "")}") : "ulimit -u unlimited");
        if (ReadNumber("/sys/fs/cgroup/pids.max") is long p)
            parts.Add($"pids.max {(p == long.MaxValue ? "max" : p.ToString("N0", CultureInfo.InvariantCulture))}");
        if (ReadNumber("/proc/sys/vm/max_map_count") is long m)
            parts.Add(Inv($"vm.max_map_count {m:N0}"));
        return string.Join(", ", parts);
    }
}
