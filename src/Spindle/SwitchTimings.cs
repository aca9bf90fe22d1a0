using System.Diagnostics;
using Spindle.Interop;

namespace Spindle;

/// <summary>One resume of a native goroutine, timed on the switch path: from just before
/// the worker switches to the goroutine to just after it is back (Stopwatch ticks).</summary>
/// <param name="Worker">The worker (M) that resumed it.</param>
/// <param name="ResumeStart">Before the switch to the goroutine.</param>
/// <param name="ResumeEnd">After the switch back.</param>
public readonly record struct SwitchSample(int Worker, long ResumeStart, long ResumeEnd);

/// <summary>Timestamps around every resume, for the tracing work of DESIGN.md section 6.
/// Off by default: the switch path then pays one predictable branch.</summary>
internal static unsafe class SwitchTimings
{
    public static volatile bool Enabled;
    private const int RingSize = 4096;

    public static int Resume(Machine m, sp_coro* co)
    {
        long start = Stopwatch.GetTimestamp();
        int rc = SpindleNative.sp_coro_resume(co);
        long end = Stopwatch.GetTimestamp();
        SwitchSample[] ring = m.Timings ??= new SwitchSample[RingSize];
        long n = m.TimingsWritten;
        ring[n % RingSize] = new SwitchSample(m.Id, start, end);
        Volatile.Write(ref m.TimingsWritten, n + 1);
        return rc;
    }

    /// <summary>The newest samples of each worker (at most 4096 per worker).</summary>
    public static List<SwitchSample> Snapshot(IEnumerable<Machine> machines)
    {
        var list = new List<SwitchSample>();
        foreach (Machine m in machines)
        {
            SwitchSample[]? ring = m.Timings;
            if (ring is null)
                continue;
            long written = Volatile.Read(ref m.TimingsWritten);
            for (long i = Math.Max(0, written - RingSize); i < written; i++)
                list.Add(ring[i % RingSize]);
        }
        return list;
    }
}
