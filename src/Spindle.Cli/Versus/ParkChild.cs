using System.Diagnostics;
using System.Reflection;
using System.Runtime;
using System.Text.Json;

namespace Spindle.Cli.Versus;

/// <summary>Resident memory per parked unit, each measurement in a fresh process: memory a
/// heap kept from earlier work (or from another measurement) would hide in the figure.
/// The parent runs this very tool again with the hidden `spindle versus park-child KIND
/// COUNT CAP PROCS`, which parks COUNT units (at most CAP threads), measures, wakes them all
/// and prints one JSON line.</summary>
internal static class ParkChild
{
    /// <summary>What one child measured.</summary>
    /// <param name="BytesPerUnit">Resident bytes the parked units added, each.</param>
    /// <param name="Units">How many were parked (fewer than asked when capped).</param>
    /// <param name="VirtualPerUnit">Virtual bytes added, each (a thread's reserved stack).</param>
    /// <param name="Capped">Why fewer were parked than asked, or null.</param>
    /// <param name="KernelPerUnit">Kernel stack bytes added, each (threads: KernelStack of
    /// /proc/meminfo, machine-wide, so other programs' threads move it too); 0 if unread.</param>
    public sealed record Result(double BytesPerUnit, long Units, double VirtualPerUnit, string? Capped, double KernelPerUnit = 0);

    // ------------------------------------------------------------ the parent's side

    /// <summary>The command that runs this tool again: the apphost as it was started, or
    /// dotnet with this assembly (under `dotnet spindle.dll`, or inside another program
    /// such as a test host).</summary>
    internal static (string File, string[] Prefix) Self()
    {
        string? process = Environment.ProcessPath;
        string assembly = typeof(ParkChild).Assembly.Location;
        bool dotnetHost = process is not null &&
                          Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        if (process is not null && !dotnetHost && Assembly.GetEntryAssembly() == typeof(ParkChild).Assembly)
            return (process, []);
        string dotnet = dotnetHost ? process!
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
            : GoPeer.FindOnPath("dotnet") ?? "dotnet";
        return (dotnet, [assembly]);
    }

    /// <summary>Runs one child; its result, or null and why.</summary>
    public static Result? Run(string kind, int count, long cap, int procs, out string? why)
    {
        var (file, prefix) = Self();
        string[] args = [.. prefix, "versus", "park-child", kind, count.ToString(), cap.ToString(), procs.ToString()];
        try
        {
            var (code, output, err) = GoPeer.Execute(file, Environment.CurrentDirectory, TimeSpan.FromMinutes(5), args);
            if (code != 0)
            {
                why = $"the measuring process failed (exit {code}): {err.Trim().Split('\n').LastOrDefault()}";
                return null;
            }
            why = null;
            return JsonSerializer.Deserialize<Result>(output.Trim().Split('\n').Last(), s_json);
        }
        catch (Exception e) when (e is JsonException or TimeoutException or System.ComponentModel.Win32Exception or IOException)
        {
            why = $"the measuring process gave no figure: {e.Message}";
            return null;
        }
    }

    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    // ------------------------------------------------------------ the child's side

    /// <summary>The hidden command's body: parks, measures, prints one JSON line.</summary>
    public static int Child(string kind, int count, long cap, int procs, TextWriter stdout, TextWriter stderr)
    {
        Result r = kind switch
        {
            "native" => Native(count, procs),
            "managed" => Managed(count, procs),
            "threads" => Threads(count, cap),
            "tasks" => Tasks(count),
            _ => throw new CliException($"versus park-child: no such kind '{kind}' (native, managed, threads or tasks)"),
        };
        stdout.WriteLine(JsonSerializer.Serialize(r, s_json));
        return 0;
    }

    /// <summary>Collects everything collectable, so that what is resident is what the
    /// parked units hold (for the managed peers: garbage would count otherwise).</summary>
    private static void Settle()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    private static Result Native(int count, int procs)
    {
        NativeGoroutines native = NativeGoroutines.Find(out string? why) ?? throw new CliException(why!);
        var (bytes, woken, errors) = native.Park(count, procs);
        if (errors != 0 || woken != count)
            throw new CliException($"{errors} runtime calls failed, {woken} of {count} woke");
        return new Result((double)bytes / count, count, 0, null);
    }

    private static Result Managed(int count, int procs)
    {
        double bytes = 0, virt = 0;
        Runtime.Run(async () =>
        {
            var ch = new Chan<long>();
            var done = new WaitGroup();
            int started = 0, woken = 0;
            Settle();
            long before = SystemInfo.ResidentBytes(), beforeVirtual = SystemInfo.VirtualBytes();
            done.Add(count);
            for (int i = 0; i < count; i++)
                Runtime.Go(async () =>
                {
                    Interlocked.Increment(ref started);
                    await ch.ReceiveAsync();
                    Interlocked.Increment(ref woken);
                    done.Done();
                });
            while (Volatile.Read(ref started) < count)
                await Runtime.Sleep(TimeSpan.FromMilliseconds(1));
            await Runtime.Sleep(TimeSpan.FromMilliseconds(20)); // the last to start reach their receive
            Settle();
            bytes = SystemInfo.ResidentBytes() - before;
            virt = SystemInfo.VirtualBytes() - beforeVirtual;
            ch.Close();
            await done.WaitAsync();
            if (woken != count)
                throw new CliException($"{woken} of {count} parked goroutines woke");
        }, procs);
        return new Result(bytes / count, count, virt / count, null);
    }

    private static Result Threads(int count, long cap)
    {
        var (headroom, limit) = SystemInfo.ThreadHeadroom();
        string? capped = null;
        int target = count;
        if (cap < target)
        {
            target = (int)cap;
            capped = $"capped at {cap:N0} threads (--quick starts no more; run without it for more)";
        }
        if (headroom < target)
        {
            target = (int)Math.Max(1, headroom);
            capped = $"capped at {target:N0} threads: the machine allows few more ({limit})";
        }
        // A lock and condition each: one object with every thread in its wait queue would
        // make each new waiter walk the queue (the runtime appends at its tail), so that
        // starting them takes quadratic time.
        var gates = new Gate[target];
        for (int i = 0; i < target; i++)
            gates[i] = new Gate();
        int started = 0, woken = 0;
        var threads = new List<Thread>(target);
        Settle();
        long before = SystemInfo.ResidentBytes(), beforeVirtual = SystemInfo.VirtualBytes();
        long? kernelBefore = SystemInfo.ReadKilobytes("/proc/meminfo", "KernelStack");
        for (int i = 0; i < target; i++)
        {
            Gate gate = gates[i];
            var t = new Thread(() =>
            {
                lock (gate)
                {
                    Interlocked.Increment(ref started);
                    while (!gate.Open)
                        Monitor.Wait(gate);
                }
                Interlocked.Increment(ref woken);
            }) { IsBackground = true };
            try
            {
                t.Start();
            }
            catch (Exception e) when (e is OutOfMemoryException or ThreadStartException)
            {
                capped = $"capped at {i:N0} threads: the machine refused the next one ({e.Message})";
                break;
            }
            threads.Add(t);
        }
        while (Volatile.Read(ref started) < threads.Count)
            Thread.Sleep(1);
        Thread.Sleep(20);
        Settle();
        double bytes = SystemInfo.ResidentBytes() - before;
        double virt = SystemInfo.VirtualBytes() - beforeVirtual;
        long? kernelAfter = SystemInfo.ReadKilobytes("/proc/meminfo", "KernelStack");
        for (int i = 0; i < threads.Count; i++)
        {
            lock (gates[i])
            {
                gates[i].Open = true;
                Monitor.Pulse(gates[i]);
            }
        }
        // Every thread wakes; the process then ends without joining them (background
        // threads), which would take seconds more.
        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref woken) < threads.Count && deadline.Elapsed < TimeSpan.FromMinutes(1))
            Thread.Sleep(1);
        if (woken != threads.Count)
            throw new CliException($"{woken} of {threads.Count} blocked threads woke");
        double kernel = kernelBefore is long kb && kernelAfter is long ka ? (double)(ka - kb) / threads.Count : 0;
        return new Result(bytes / threads.Count, threads.Count, virt / threads.Count, capped, kernel);
    }

    private sealed class Gate
    {
        public bool Open;
    }

    private static Result Tasks(int count)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int started = 0, woken = 0;
        var tasks = new Task[count];
        Settle();
        long before = SystemInfo.ResidentBytes(), beforeVirtual = SystemInfo.VirtualBytes();
        for (int i = 0; i < count; i++)
            tasks[i] = Waiter();
        Thread.Sleep(20);
        Settle();
        double bytes = SystemInfo.ResidentBytes() - before;
        double virt = SystemInfo.VirtualBytes() - beforeVirtual;
        gate.SetResult();
        Task.WaitAll(tasks);
        if (started != count || woken != count)
            throw new CliException($"{woken} of {count} waiting tasks woke");
        return new Result(bytes / count, count, virt / count, null);

        async Task Waiter()
        {
            Interlocked.Increment(ref started);
            await gate.Task;
            Interlocked.Increment(ref woken);
        }
    }
}
