using System.Diagnostics.Tracing;

namespace Spindle;

/// <summary>The Spindle-Runtime EventSource (EventPipe, ETW, dotnet-trace, PerfView).
/// This is the start of DESIGN.md section 6: rare events only so far; per-switch
/// samples come with the tracing work.</summary>
[EventSource(Name = "Spindle-Runtime")]
internal sealed class RuntimeEvents : EventSource
{
    public static readonly RuntimeEvents Log = new();

    /// <summary>Keywords: groups of events a listener enables.</summary>
    public static class Keywords
    {
        /// <summary>Scheduler decisions: processors retaken, deadlocks.</summary>
        public const EventKeywords Scheduler = (EventKeywords)1;
        /// <summary>Managed callbacks run for goroutines.</summary>
        public const EventKeywords Callback = (EventKeywords)2;
    }

    [Event(1, Level = EventLevel.Warning, Keywords = Keywords.Callback,
        Message = "goroutine {0}: callback {1} threw {2}: {3}")]
    public void CallbackFailed(long goroutine, int callbackId, string exceptionType, string message)
    {
        if (IsEnabled())
            WriteEvent(1, goroutine, callbackId, exceptionType, message);
    }

    [Event(2, Level = EventLevel.Informational, Keywords = Keywords.Scheduler,
        Message = "P{0} retaken from a goroutine that ran {1} ms without a runtime call")]
    public void HogRetaken(int processor, double milliseconds)
    {
        if (IsEnabled())
            WriteEvent(2, processor, milliseconds);
    }

    [Event(3, Level = EventLevel.Error, Keywords = Keywords.Scheduler,
        Message = "all {0} goroutines are asleep - deadlock")]
    public void Deadlock(int goroutines)
    {
        if (IsEnabled())
            WriteEvent(3, goroutines);
    }
}
