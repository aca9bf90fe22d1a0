namespace Spindle.Cli;

/// <summary>`spindle demo pipeline`: native goroutines square numbers and send them over
/// a channel made here to a managed async goroutine that sums them; one channel joins
/// the two kinds of goroutine.</summary>
internal static class PipelineDemo
{
    public static void Run(nint nativeStage, long count, int maxProcs, TextWriter stdout)
    {
        var squares = new Chan<long>(capacity: 64);
        nint io = System.Runtime.InteropServices.Marshal.AllocHGlobal(3 * sizeof(long));
        System.Runtime.InteropServices.Marshal.WriteInt64(io, 0, (long)squares.Handle);
        System.Runtime.InteropServices.Marshal.WriteInt64(io, 8, count);
        System.Runtime.InteropServices.Marshal.WriteInt64(io, 16, 4); // square workers
        long sum = 0, received = 0;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            Runtime.Run(async () =>
            {
                Runtime.Go(nativeStage, io);
                await foreach (long square in squares.ReadAllAsync())
                {
                    sum += square;
                    received++;
                }
            }, maxProcs);
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(io);
        }
        TimeSpan took = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        long expected = count * (count + 1) * (2 * count + 1) / 6;
        stdout.WriteLine($"4 native goroutines squared 1..{count}; a managed goroutine received {received} squares, " +
                         $"sum {sum} ({(sum == expected ? "correct" : $"WRONG, expected {expected}")}) in {took.TotalMilliseconds:0.0} ms");
        squares.ReleaseHandle();
    }
}
