using System.Runtime.InteropServices;
using Spindle;

namespace Spindle.Benchmarks;

/// <summary>The native goroutine programs of native/bench/goroutine_bench.c.</summary>
internal static class BenchPrograms
{
    private static readonly nint Library = Load();

    /// <summary>libspindle is loaded first, so the programs bind to the runtime's copy.</summary>
    private static nint Load()
    {
        _ = Runtime.NativeVersion;
        return NativeLibrary.Load(Path.Combine(AppContext.BaseDirectory, "libspindle_gobench.so"));
    }

    /// <summary>The entry point named name (a <c>void (*)(void *)</c>).</summary>
    public static nint Get(string name) => NativeLibrary.GetExport(Library, name);
}
