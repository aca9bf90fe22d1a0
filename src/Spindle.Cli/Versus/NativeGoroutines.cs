using System.Runtime.InteropServices;

namespace Spindle.Cli.Versus;

/// <summary>versus_io of native/demos/versus.c: what a native measurement is asked to do
/// and what it says back.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VersusIo
{
    public long N, P1, P2;
    public long Ns;
    public long Out1, Out2, Out3;
    public long* Samples;
    public byte* Text;
}

/// <summary>The native goroutine peer: the programs of native/demos/versus.c in
/// libspindle_demos.so, each run as the main goroutine of a fresh runtime. They time
/// themselves, so the runtime's start and stop are not in the figures.</summary>
internal sealed unsafe class NativeGoroutines
{
    private readonly string _library;
    private readonly Dictionary<string, nint> _entries = [];

    private NativeGoroutines(string library) => _library = library;

    /// <summary>The demos library next to this tool, or null and why not.</summary>
    public static NativeGoroutines? Find(out string? why)
    {
        string library = Path.Combine(AppContext.BaseDirectory, "libspindle_demos.so");
        why = File.Exists(library) ? null
            : $"this spindle has no native demos for {RuntimeInformation.RuntimeIdentifier} (they are built for x86-64 Linux)";
        return why is null ? new NativeGoroutines(library) : null;
    }

    /// <summary>How the native goroutines' stacks are, in one line.</summary>
    public string Stacks => Runtime.DescribeStacks(Entry("versus_yield"));

    private nint Entry(string name)
    {
        if (!_entries.TryGetValue(name, out nint fn))
            _entries[name] = fn = NativeProgram.Load(_library, name).Entry;
        return fn;
    }

    /// <summary>Runs entry as the main goroutine at maxProcs; returns what it wrote.</summary>
    public VersusIo Run(string entry, VersusIo io, int maxProcs)
    {
        nint fn = Entry(entry);
        Runtime.Run(fn, (nint)(&io), maxProcs);
        return io;
    }

    public double YieldNs(Budget b) =>
        Measure.NsPerOp(b, 1000, 1L << 26, n => Run("versus_yield", new VersusIo { N = n }, 1).Ns / 2.0);

    public double PingPongNs(Budget b) => Measure.NsPerOp(b, 1000, 1L << 26, n =>
    {
        VersusIo io = Run("versus_pingpong", new VersusIo { N = n }, 1);
        Check(io.Out1 == n, "the ping-pong's counter");
        return io.Ns;
    });

    public double SpawnNs(Budget b, int procs) =>
        Measure.NsPerOp(b, 1000, 1L << 24, n => Run("versus_spawn", new VersusIo { N = n }, procs).Ns);

    public double FanoutNs(Budget b, int procs, int workers, int capacity) => Measure.NsPerOp(b, 1000, 1L << 26, n =>
    {
        VersusIo io = Run("versus_fanout", new VersusIo { N = n, P1 = workers, P2 = capacity }, procs);
        Check(io.Out1 == n * (n + 1) / 2, "the fan-out's sum");
        return io.Ns;
    });

    public (double Median, double P99) Latency(int samples, int procs)
    {
        long* buffer = (long*)NativeMemory.AllocZeroed((nuint)samples, sizeof(long));
        try
        {
            Run("versus_latency", new VersusIo { N = samples, Samples = buffer }, procs);
            return Measure.Percentiles(new Span<long>(buffer, samples), ns => ns);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>The time jobs jobs of rounds each take at procs processors, in ns.</summary>
    public double CpuNs(int jobs, long rounds, int procs, ulong expected)
    {
        VersusIo io = Run("versus_cpu", new VersusIo { N = jobs, P1 = rounds, P2 = Math.Max(1, rounds / CpuChunks) }, procs);
        Check((ulong)io.Out1 == expected, "the CPU jobs' result");
        return io.Ns;
    }

    /// <summary>Yields per CPU-bound job, in every peer that yields.</summary>
    public const int CpuChunks = 16;

    public string Interleave(int digits, long workNs, int block, int procs)
    {
        byte* text = (byte*)NativeMemory.AllocZeroed((nuint)(2 * digits + 1));
        try
        {
            Run("versus_interleave", new VersusIo { N = digits, P1 = workNs, P2 = block, Text = text }, procs);
            return Marshal.PtrToStringAnsi((nint)text, 2 * digits);
        }
        finally
        {
            NativeMemory.Free(text);
        }
    }

    /// <summary>Resident bytes added by n goroutines parked in a receive (in this process:
    /// run it in a fresh one), and how many woke.</summary>
    public (long Bytes, long Woken, long Errors) Park(int n, int procs)
    {
        VersusIo io = Run("versus_park", new VersusIo { N = n }, procs);
        return (io.Out1, io.Out2, io.Out3);
    }

    /// <summary>Sleeps of sleepNs until the goroutine woke on another thread (at most
    /// maxParks), and the thread ids.</summary>
    public (long Parks, long First, long Last) Identity(int maxParks, long sleepNs, int procs)
    {
        VersusIo io = Run("versus_identity", new VersusIo { N = maxParks, P1 = sleepNs }, procs);
        return (io.Out1, io.Out2, io.Out3);
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
            throw new InvalidOperationException($"spindle versus: {what} is wrong: the native program did not run as it should");
    }
}
