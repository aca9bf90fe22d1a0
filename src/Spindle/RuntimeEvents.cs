using System.Diagnostics.Tracing;
using System.Runtime.CompilerServices;

namespace Spindle;

/// <summary>The Spindle-Runtime EventSource (EventPipe for dotnet-trace and TraceEvent; ETW
/// for PerfView on Windows). Low volume by design: the scheduler's decisions, the monitor's,
/// and, at Verbose, what the managed scheduler sees of goroutines. Switches never become one
/// event each (EventPipe sustains a million or two events a second in all, switches run at
/// tens of millions): with the <see cref="Keywords.Switch"/> keyword enabled, the native
/// switch trace runs, and its records leave in numbered batches of up to 57,344 bytes,
/// one <see cref="SwitchBatch"/> event each (docs/tracing.md describes every event).</summary>
/// <remarks>Every event is written through WriteEventCore with typed EventData, never the
/// params object[] overload, so that none allocates. Event ids and versions are fixed:
/// readers (spindle trace report) rely on them.</remarks>
[EventSource(Name = "Spindle-Runtime")]
internal sealed unsafe class RuntimeEvents : EventSource
{
    public static readonly RuntimeEvents Log = new();

    /// <summary>Keywords: groups of events a session enables.</summary>
    public static class Keywords
    {
        /// <summary>Scheduler decisions: processor hand-offs, deadlocks.</summary>
        public const EventKeywords Scheduler = (EventKeywords)0x1;
        /// <summary>Goroutines as the managed scheduler sees them: created, exited, blocked,
        /// unblocked (Verbose), and callbacks that threw.</summary>
        public const EventKeywords Goroutine = (EventKeywords)0x2;
        /// <summary>Channel waits (with <see cref="Goroutine"/>: the blocked events name the
        /// channel).</summary>
        public const EventKeywords Channel = (EventKeywords)0x4;
        /// <summary>Stack segment growth.</summary>
        public const EventKeywords Stack = (EventKeywords)0x8;
        /// <summary>The monitor: hogs detected, processors retaken.</summary>
        public const EventKeywords Monitor = (EventKeywords)0x10;
        /// <summary>The switch trace: while enabled, every switch is recorded natively and
        /// leaves in <see cref="SwitchBatch"/> events.</summary>
        public const EventKeywords Switch = (EventKeywords)0x20;
    }

    /// <summary>Event ids (fixed: readers use them).</summary>
    internal static class Ids
    {
        public const int CallbackFailed = RuntimeEventIds.CallbackFailed, HogDetected = RuntimeEventIds.HogDetected,
            Deadlock = RuntimeEventIds.Deadlock, GoroutineCreated = RuntimeEventIds.GoroutineCreated,
            GoroutineExited = RuntimeEventIds.GoroutineExited, GoroutineBlocked = RuntimeEventIds.GoroutineBlocked,
            GoroutineUnblocked = RuntimeEventIds.GoroutineUnblocked, ProcessorHandoff = RuntimeEventIds.ProcessorHandoff,
            ProcessorRetaken = RuntimeEventIds.ProcessorRetaken, StackGrowth = RuntimeEventIds.StackGrowth,
            SwitchTraceStarted = RuntimeEventIds.SwitchTraceStarted, SwitchBatch = RuntimeEventIds.SwitchBatch,
            SwitchTraceDropped = RuntimeEventIds.SwitchTraceDropped, SwitchTraceStopped = RuntimeEventIds.SwitchTraceStopped,
            FlightRecorderWritten = RuntimeEventIds.FlightRecorderWritten;
    }

    /// <summary>Why the monitor took a processor (<see cref="ProcessorRetaken"/>).</summary>
    internal enum RetakeReason
    {
        Hog = 1,
        Blocking = 2,
    }

    private RuntimeEvents() : base(EventSourceSettings.EtwManifestEventFormat)
    {
    }

    /// <summary>True when any session listens for Verbose goroutine events.</summary>
    public bool GoroutinesEnabled => IsEnabled(EventLevel.Verbose, Keywords.Goroutine);

    protected override void OnEventCommand(EventCommandEventArgs command)
    {
        // The switch trace runs while some session has the Switch keyword (a flight
        // recorder's dump enables it with Dump=1 to receive what it writes, not to start one).
        if (command.Command is EventCommand.Enable or EventCommand.Disable or EventCommand.Update)
            SwitchTrace.SessionsChanged(this, IsEnabled(EventLevel.Informational, Keywords.Switch), command.Arguments);
    }

    // ---------------------------------------------------------------- payload helpers

    private static EventData Data<T>(ref T value) where T : unmanaged =>
        new() { DataPointer = (nint)Unsafe.AsPointer(ref value), Size = sizeof(T) };

    private static EventData Text(char* chars, int length) =>
        new() { DataPointer = (nint)chars, Size = (length + 1) * sizeof(char) };

    // ---------------------------------------------------------------- events

    [Event(Ids.CallbackFailed, Version = 1, Level = EventLevel.Warning, Keywords = Keywords.Goroutine,
        Message = "goroutine {0}: callback {1} threw {2}: {3}")]
    public void CallbackFailed(long goroutine, int callbackId, string exceptionType, string message)
    {
        if (!IsEnabled())
            return;
        fixed (char* type = exceptionType)
        fixed (char* text = message)
        {
            EventData* d = stackalloc EventData[4];
            d[0] = Data(ref goroutine);
            d[1] = Data(ref callbackId);
            d[2] = Text(type, exceptionType.Length);
            d[3] = Text(text, message.Length);
            WriteEventCore(Ids.CallbackFailed, 4, d);
        }
    }

    [Event(Ids.HogDetected, Version = 1, Level = EventLevel.Informational, Keywords = Keywords.Monitor,
        Message = "P{0}: a goroutine ran {1} ms without a runtime call")]
    public void HogDetected(int processor, double milliseconds)
    {
        if (!IsEnabled(EventLevel.Informational, Keywords.Monitor))
            return;
        EventData* d = stackalloc EventData[2];
        d[0] = Data(ref processor);
        d[1] = Data(ref milliseconds);
        WriteEventCore(Ids.HogDetected, 2, d);
    }

    [Event(Ids.Deadlock, Version = 1, Level = EventLevel.Error, Keywords = Keywords.Scheduler,
        Message = "all {0} goroutines are asleep - deadlock")]
    public void Deadlock(int goroutines)
    {
        if (!IsEnabled())
            return;
        EventData* d = stackalloc EventData[1];
        d[0] = Data(ref goroutines);
        WriteEventCore(Ids.Deadlock, 1, d);
    }

    /// <summary>kind: 0 native, 1 managed (<see cref="GoroutineKind"/>).</summary>
    [Event(Ids.GoroutineCreated, Version = 1, Level = EventLevel.Verbose, Keywords = Keywords.Goroutine,
        Message = "goroutine {0} created by {1} (kind {2})")]
    public void GoroutineCreated(long goroutine, long parent, int kind)
    {
        EventData* d = stackalloc EventData[3];
        d[0] = Data(ref goroutine);
        d[1] = Data(ref parent);
        d[2] = Data(ref kind);
        WriteEventCore(Ids.GoroutineCreated, 3, d);
    }

    [Event(Ids.GoroutineExited, Version = 1, Level = EventLevel.Verbose, Keywords = Keywords.Goroutine,
        Message = "goroutine {0} exited")]
    public void GoroutineExited(long goroutine)
    {
        EventData* d = stackalloc EventData[1];
        d[0] = Data(ref goroutine);
        WriteEventCore(Ids.GoroutineExited, 1, d);
    }

    /// <summary>reason: a <see cref="WaitReason"/>; objectHandle: the channel, mutex or wait
    /// group's handle when the scheduler knows it, else 0.</summary>
    [Event(Ids.GoroutineBlocked, Version = 1, Level = EventLevel.Verbose, Keywords = Keywords.Goroutine | Keywords.Channel,
        Message = "goroutine {0} blocked ({1}) on {2}")]
    public void GoroutineBlocked(long goroutine, int reason, long objectHandle)
    {
        EventData* d = stackalloc EventData[3];
        d[0] = Data(ref goroutine);
        d[1] = Data(ref reason);
        d[2] = Data(ref objectHandle);
        WriteEventCore(Ids.GoroutineBlocked, 3, d);
    }

    /// <summary>waker: the goroutine running on the thread that readied it, 0 for none.</summary>
    [Event(Ids.GoroutineUnblocked, Version = 1, Level = EventLevel.Verbose, Keywords = Keywords.Goroutine,
        Message = "goroutine {0} unblocked by {1}")]
    public void GoroutineUnblocked(long goroutine, long waker)
    {
        EventData* d = stackalloc EventData[2];
        d[0] = Data(ref goroutine);
        d[1] = Data(ref waker);
        WriteEventCore(Ids.GoroutineUnblocked, 2, d);
    }

    /// <summary>A processor nobody ran was handed to a worker (Go's handoffp), after the
    /// monitor retook it.</summary>
    [Event(Ids.ProcessorHandoff, Version = 1, Level = EventLevel.Informational, Keywords = Keywords.Scheduler,
        Message = "P{0} handed off (work waiting: {1})")]
    public void ProcessorHandoff(int processor, bool work)
    {
        if (!IsEnabled(EventLevel.Informational, Keywords.Scheduler))
            return;
        int w = work ? 1 : 0;
        EventData* d = stackalloc EventData[2];
        d[0] = Data(ref processor);
        d[1] = new EventData { DataPointer = (nint)(&w), Size = 4 }; // bool is a 4-byte win:Boolean
        WriteEventCore(Ids.ProcessorHandoff, 2, d);
    }

    /// <summary>reason: 1 a goroutine that ran too long (a hog), 2 a blocking call.</summary>
    [Event(Ids.ProcessorRetaken, Version = 1, Level = EventLevel.Informational, Keywords = Keywords.Monitor,
        Message = "P{0} retaken (reason {1}) after {2} ms")]
    public void ProcessorRetaken(int processor, int reason, double milliseconds)
    {
        if (!IsEnabled(EventLevel.Informational, Keywords.Monitor))
            return;
        EventData* d = stackalloc EventData[3];
        d[0] = Data(ref processor);
        d[1] = Data(ref reason);
        d[2] = Data(ref milliseconds);
        WriteEventCore(Ids.ProcessorRetaken, 3, d);
    }

    /// <summary>Segments goroutine stacks grew by since the last report, and the stack bytes
    /// goroutines hold now (sent once a second while it changes).</summary>
    [Event(Ids.StackGrowth, Version = 1, Level = EventLevel.Informational, Keywords = Keywords.Stack,
        Message = "{0} stack segments grown; {1} bytes of goroutine stacks in use")]
    public void StackGrowth(long segmentsGrown, long stackBytes)
    {
        EventData* d = stackalloc EventData[2];
        d[0] = Data(ref segmentsGrown);
        d[1] = Data(ref stackBytes);
        WriteEventCore(Ids.StackGrowth, 2, d);
    }

    /// <summary>mode: 0 streaming, 1 a flight recorder's dump; stampNanoseconds: what one
    /// traced switch adds to a switch (measured when the trace starts).</summary>
    [Event(Ids.SwitchTraceStarted, Version = 1, Level = EventLevel.Informational, Keywords = Keywords.Switch,
        Message = "switch trace started (mode {0}, {1} bytes of batches, {2} ticks/s)")]
    public void SwitchTraceStarted(int mode, long bufferBytes, long ticksPerSecond, double stampNanoseconds)
    {
        EventData* d = stackalloc EventData[4];
        d[0] = Data(ref mode);
        d[1] = Data(ref bufferBytes);
        d[2] = Data(ref ticksPerSecond);
        d[3] = Data(ref stampNanoseconds);
        WriteEventCore(Ids.SwitchTraceStarted, 4, d);
    }

    /// <summary>One batch of one thread's records: records is the batch's bytes (libspindle's
    /// compact form, which <see cref="SwitchTraceFormat.TryDecodeRecords(ReadOnlySpan{char}, ulong, Span{SwitchTraceRecord})"/>
    /// turns into count records) in <see cref="SwitchTraceFormat"/>'s text form. Version 1
    /// carried count 32-byte records instead. A string, not a byte[]: EventPipe
    /// mis-decodes the byte[] payloads of manifest EventSources, and a string of characters
    /// none of which is 0 or a surrogate round-trips through EventPipe, ETW and TraceEvent
    /// exactly (the tests prove it).</summary>
    [Event(Ids.SwitchBatch, Version = 2, Level = EventLevel.Informational, Keywords = Keywords.Switch,
        Message = "switch trace batch {0}: {2} records of thread {1}")]
    public void SwitchBatch(long sequence, int thread, int count, long droppedBefore, long ticksPerSecond,
        long originTicks, long originNanoseconds, string records)
    {
        fixed (char* text = records)
            WriteBatch(sequence, thread, count, droppedBefore, ticksPerSecond, originTicks, originNanoseconds, text, records.Length);
    }

    /// <summary><see cref="SwitchBatch"/> from a buffer the caller keeps (no string made).</summary>
    [NonEvent]
    public void WriteBatch(long sequence, int thread, int count, long droppedBefore, long ticksPerSecond,
        long originTicks, long originNanoseconds, char* records, int length)
    {
        EventData* d = stackalloc EventData[8];
        d[0] = Data(ref sequence);
        d[1] = Data(ref thread);
        d[2] = Data(ref count);
        d[3] = Data(ref droppedBefore);
        d[4] = Data(ref ticksPerSecond);
        d[5] = Data(ref originTicks);
        d[6] = Data(ref originNanoseconds);
        d[7] = Text(records, length);
        WriteEventCore(Ids.SwitchBatch, 8, d);
    }

    /// <summary>Records dropped so far for want of a free batch (the recording fell behind),
    /// of recordsWritten kept: sent whenever the count grows.</summary>
    [Event(Ids.SwitchTraceDropped, Version = 1, Level = EventLevel.Warning, Keywords = Keywords.Switch,
        Message = "switch trace: {0} records dropped so far ({1} kept)")]
    public void SwitchTraceDropped(long recordsDropped, long recordsWritten)
    {
        EventData* d = stackalloc EventData[2];
        d[0] = Data(ref recordsDropped);
        d[1] = Data(ref recordsWritten);
        WriteEventCore(Ids.SwitchTraceDropped, 2, d);
    }

    [Event(Ids.SwitchTraceStopped, Version = 1, Level = EventLevel.Informational, Keywords = Keywords.Switch,
        Message = "switch trace stopped: {0} records in {2} batches, {1} dropped, {3} batches overwritten")]
    public void SwitchTraceStopped(long records, long dropped, long batches, long overwrittenBatches)
    {
        EventData* d = stackalloc EventData[4];
        d[0] = Data(ref records);
        d[1] = Data(ref dropped);
        d[2] = Data(ref batches);
        d[3] = Data(ref overwrittenBatches);
        WriteEventCore(Ids.SwitchTraceStopped, 4, d);
    }

    [Event(Ids.FlightRecorderWritten, Version = 1, Level = EventLevel.Informational, Keywords = Keywords.Switch,
        Message = "flight recorder: {1} batches written ({0})")]
    public void FlightRecorderWritten(string reason, int batches)
    {
        if (!IsEnabled())
            return;
        fixed (char* r = reason)
        {
            EventData* d = stackalloc EventData[2];
            d[0] = Text(r, reason.Length);
            d[1] = Data(ref batches);
            WriteEventCore(Ids.FlightRecorderWritten, 2, d);
        }
    }
}
