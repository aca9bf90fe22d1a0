namespace Spindle;

/// <summary>The handles of channels, mutexes and native wait groups, process-wide: a
/// channel made by native code can be used from C# and the other way round, by any
/// runtime or thread. Native code finds channels and wait groups by handle in native
/// mirrors of these tables, so their slots must be unique in the process.</summary>
internal static class Registry
{
    public static readonly HandleTable<ChannelCore> Channels = new();
    public static readonly HandleTable<MutexCore> Mutexes = new();
    public static readonly HandleTable<NativeWaitGroup> WaitGroups = new();
}
