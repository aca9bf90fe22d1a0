using System.Text;

namespace Spindle;

/// <summary>Every goroutine is parked and nothing can wake any of them: Go's
/// "all goroutines are asleep - deadlock!". <see cref="Goroutines"/> is the dump.</summary>
public sealed class DeadlockException : Exception
{
    /// <summary>Creates the exception with the dump of every live goroutine.</summary>
    public DeadlockException(IReadOnlyList<GoroutineInfo> goroutines)
        : base(Format(goroutines)) => Goroutines = goroutines;

    /// <summary>Each live goroutine with its state and what it waits on.</summary>
    public IReadOnlyList<GoroutineInfo> Goroutines { get; }

    private static string Format(IReadOnlyList<GoroutineInfo> goroutines)
    {
        var sb = new StringBuilder("all goroutines are asleep - deadlock!\n");
        foreach (GoroutineInfo g in goroutines)
            sb.Append('\n').Append(g);
        return sb.ToString();
    }
}

/// <summary>A goroutine other than main ended with an exception; as in Go, that ends the
/// program (<see cref="Runtime.Run(System.Func{System.Threading.Tasks.Task}, int)"/> throws this).</summary>
public sealed class GoroutineFailedException(long goroutine, Exception inner)
    : Exception($"goroutine {goroutine} failed: {inner.Message}", inner)
{
    /// <summary>The id of the goroutine that failed.</summary>
    public long Goroutine { get; } = goroutine;
}

/// <summary>A Spindle call returned an error code (an SP_E* value).</summary>
public sealed class SpindleException(int code, string message) : Exception(message)
{
    /// <summary>The SP_E* code.</summary>
    public int Code { get; } = code;
}

/// <summary>Names of SP_E* codes, and the exceptions C# callers get for them.</summary>
internal static unsafe class SpindleError
{
    public static string Describe(int code) =>
        System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)Interop.SpindleNative.sp_strerror(code)) ?? $"error {code}";

    public static void ThrowIfError(int code, string what)
    {
        if (code < 0)
            throw new SpindleException(code, $"{what}: {Describe(code)}");
    }

    /// <summary>The exception for a failed channel operation.</summary>
    public static Exception ForChannel(int result) => result switch
    {
        Interop.SpindleNative.SP_ECLOSED => new ChannelClosedException("spindle: send on closed channel"),
        _ => ForWait(result, "channel operation"),
    };

    /// <summary>The exception for a wait that ended with result (not SP_OK).</summary>
    public static Exception ForWait(int result, string what) => result switch
    {
        Interop.SpindleNative.SP_ESTALE => new ObjectDisposedException(what, $"spindle: {what}: the object was released"),
        Interop.SpindleNative.SP_ECANCELED => new OperationCanceledException($"spindle: {what} was cancelled"),
        _ => new SpindleException(result, $"spindle: {what}: {Describe(result)}"),
    };

    public static void ThrowIfChannelFailed(int result)
    {
        if (result != Interop.SpindleNative.SP_OK)
            throw ForChannel(result);
    }
}

/// <summary>A send on a closed channel, or a close of a closed one: Go panics; Spindle
/// throws this in C# and returns SP_ECLOSED in C.</summary>
public sealed class ChannelClosedException(string message) : InvalidOperationException(message);
