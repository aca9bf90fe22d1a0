namespace Spindle;

/// <summary>The event ids of the Spindle-Runtime EventSource, for readers of its traces
/// (TraceEvent's TraceEvent.ID): fixed, and documented in docs/tracing.md.</summary>
public static class RuntimeEventIds
{
    /// <summary>A managed callback threw (goroutine, callbackId, exceptionType, message).</summary>
    public const int CallbackFailed = 1;
    /// <summary>The monitor found a goroutine that ran too long (processor, milliseconds).</summary>
    public const int HogDetected = 2;
    /// <summary>Every goroutine is asleep (goroutines).</summary>
    public const int Deadlock = 3;
    /// <summary>A goroutine the managed scheduler started (goroutine, parent, kind).</summary>
    public const int GoroutineCreated = 4;
    /// <summary>A goroutine the managed scheduler ended (goroutine).</summary>
    public const int GoroutineExited = 5;
    /// <summary>A managed goroutine parked (goroutine, reason, objectHandle).</summary>
    public const int GoroutineBlocked = 6;
    /// <summary>A managed goroutine made runnable (goroutine, waker).</summary>
    public const int GoroutineUnblocked = 7;
    /// <summary>A processor handed to a worker (processor, work).</summary>
    public const int ProcessorHandoff = 8;
    /// <summary>The monitor took a processor (processor, reason, milliseconds).</summary>
    public const int ProcessorRetaken = 9;
    /// <summary>Stack segments grown and stack bytes in use (segmentsGrown, stackBytes).</summary>
    public const int StackGrowth = 10;
    /// <summary>A switch trace began (mode, bufferBytes, ticksPerSecond, stampNanoseconds).</summary>
    public const int SwitchTraceStarted = 11;
    /// <summary>A batch of switch records (sequence, thread, count, droppedBefore, ticksPerSecond,
    /// originTicks, originNanoseconds, records).</summary>
    public const int SwitchBatch = 12;
    /// <summary>Records dropped so far (recordsDropped, recordsWritten).</summary>
    public const int SwitchTraceDropped = 13;
    /// <summary>A switch trace ended (records, dropped, batches, overwrittenBatches).</summary>
    public const int SwitchTraceStopped = 14;
    /// <summary>The flight recorder wrote its batches (reason, batches).</summary>
    public const int FlightRecorderWritten = 15;
}
