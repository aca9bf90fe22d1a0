namespace Spindle;

/// <summary>The native tracer's counts.</summary>
/// <param name="Records">Records written (a switch with its parts counts once).</param>
/// <param name="Dropped">Records dropped for want of a free batch: the recording fell behind.</param>
/// <param name="Batches">Batches published.</param>
/// <param name="OverwrittenBatches">Flight recorder: older batches reused for newer ones.</param>
/// <param name="BufferBytes">The batches' memory.</param>
/// <param name="StampNanoseconds">What one traced switch adds to the switch path (its two
/// clock reads and its record), measured when the trace started.</param>
public sealed record SwitchTraceStats(long Records, long Dropped, long Batches, long OverwrittenBatches,
    long BufferBytes, double StampNanoseconds);
