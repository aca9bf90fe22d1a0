namespace Spindle;

/// <summary>The handles of channels and mutexes, process-wide: a channel made by native
/// code can be used from C# and the other way round, by any runtime or thread.</summary>
internal static class Registry
{
    public static readonly HandleTable<ChannelCore> Channels = new();
    public static readonly HandleTable<MutexCore> Mutexes = new();
}
