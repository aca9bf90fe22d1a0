using System.Runtime.InteropServices;

namespace Spindle.Tests;

/// <summary>The native goroutine programs of native/tests/goroutines, and a buffer of
/// int64 slots to exchange data with them.</summary>
internal static unsafe class TestPrograms
{
    private static readonly nint Library = Load();

    /// <summary>libspindle must already be loaded (by the runtime) when the programs
    /// are: the loader then binds their libspindle.so.0 to it by SONAME, instead of
    /// loading a second copy with its own thread-local state.</summary>
    private static nint Load()
    {
        _ = Interop.SpindleNative.sp_version();
        return NativeLibrary.Load(Path.Combine(AppContext.BaseDirectory, "libspindle_testprogs.so"));
    }

    public static nint Get(string name) => NativeLibrary.GetExport(Library, name);

    /// <summary>Runs program as the main goroutine with io as its argument.</summary>
    public static void Run(string program, long[] io, int maxProcs)
    {
        fixed (long* p = io)
            Runtime.Run(Get(program), (nint)p, maxProcs);
    }
}

/// <summary>int64 slots in unmanaged memory shared with native goroutines; safe to read
/// from async code (no pinning, no unsafe context at the call site).</summary>
internal sealed unsafe class NativeSlots : IDisposable
{
    private readonly long* _slots;

    public NativeSlots(params long[] initial)
    {
        _slots = (long*)NativeMemory.AllocZeroed((nuint)initial.Length, sizeof(long));
        Length = initial.Length;
        for (int i = 0; i < initial.Length; i++)
            _slots[i] = initial[i];
    }

    public int Length { get; }
    public nint Address => (nint)_slots;

    public long this[int i]
    {
        get => Volatile.Read(ref _slots[Check(i)]);
        set => Volatile.Write(ref _slots[Check(i)], value);
    }

    private int Check(int i) => (uint)i < (uint)Length ? i : throw new IndexOutOfRangeException();

    public void Dispose() => NativeMemory.Free(_slots);
}

/// <summary>Two callbacks a native program runs (sp_call) around a steady-state loop:
/// each notes the worker thread it ran on, that thread's allocated bytes and the
/// process total, so a test can check that the loop allocated nothing.</summary>
internal sealed class AllocationProbe : IDisposable
{
    private long _threadBefore, _threadAfter, _totalBefore, _totalAfter;
    private int _beforeThread = -1, _afterThread = -2;
    private long _retakesBefore = -1, _retakesAfter = -2;

    public AllocationProbe()
    {
        // Garbage an earlier test left (a million goroutines' worth) must not be
        // collected during the loop: a long pause there lets the runtime monitor hand
        // the processor to another worker thread, and the loop no longer runs on one.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        StartId = Runtime.RegisterCallback(_ =>
        {
            RuntimeStats stats = Runtime.Stats; // read outside the window: it allocates
            _retakesBefore = stats.HogsRetaken + stats.BlockingRetaken;
            _beforeThread = Environment.CurrentManagedThreadId;
            _threadBefore = GC.GetAllocatedBytesForCurrentThread();
            return _totalBefore = GC.GetTotalAllocatedBytes(precise: true);
        });
        EndId = Runtime.RegisterCallback(_ =>
        {
            _totalAfter = GC.GetTotalAllocatedBytes(precise: true);
            _threadAfter = GC.GetAllocatedBytesForCurrentThread();
            _afterThread = Environment.CurrentManagedThreadId;
            RuntimeStats stats = Runtime.Stats;
            _retakesAfter = stats.HogsRetaken + stats.BlockingRetaken;
            return _totalAfter;
        });
    }

    /// <summary>The callback id to run before the loop.</summary>
    public int StartId { get; }
    /// <summary>The callback id to run after it.</summary>
    public int EndId { get; }
    /// <summary>Both ran, on the same worker thread, and the monitor never took its
    /// processor in between (the worker then waits on the scheduler's lock, whose
    /// first contention allocates its wait event: not the steady state measured).</summary>
    public bool RanUndisturbed => _totalBefore > 0 && _beforeThread == _afterThread && _retakesBefore == _retakesAfter;

    /// <summary>Runs program at GOMAXPROCS 1 with io = { rounds, 0, start id, end id } until
    /// one worker thread ran its measured loop from start to end undisturbed, at most three
    /// times: on a busy machine the OS may deschedule the worker for 10 ms, and the runtime
    /// monitor then rightly takes its processor, which spoils a per-thread count.</summary>
    public static (AllocationProbe Probe, long[] Io) RunOnOneWorker(string program, long rounds)
    {
        // Once unmeasured first: run first in a fresh process, the measured loop met the
        // test runner's start-up and the JIT's tiering on other threads (219,712 bytes
        // once in a full run, while the worker itself allocated nothing).
        using (var warmUp = new AllocationProbe())
            TestPrograms.Run(program, new long[] { rounds, 0, warmUp.StartId, warmUp.EndId }, maxProcs: 1);
        for (int attempt = 1; ; attempt++)
        {
            var probe = new AllocationProbe();
            var io = new long[] { rounds, 0, probe.StartId, probe.EndId };
            TestPrograms.Run(program, io, maxProcs: 1);
            if (probe.RanUndisturbed || attempt == 3)
                return (probe, io);
            probe.Dispose();
        }
    }
    /// <summary>What that thread allocated in between.</summary>
    public long ThreadBytes => _threadAfter - _threadBefore;

    public void Dispose()
    {
        Runtime.UnregisterCallback(StartId);
        Runtime.UnregisterCallback(EndId);
    }
}
