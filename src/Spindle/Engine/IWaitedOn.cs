namespace Spindle;

/// <summary>What a party keeps alive while it waits (its Keep), when that names the engine
/// object a goroutine parked through it waits on: the tracer and the Spindle-Runtime events
/// report it.</summary>
internal interface IWaitedOn
{
    /// <summary>The handle of the one channel, mutex or wait group waited on; 0 for several,
    /// or none.</summary>
    ulong WaitedOnHandle { get; }
}
