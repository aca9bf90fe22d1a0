using Spindle.Interop;

namespace Spindle;

/// <summary>What every call into the native engine shares: the caller's processor, so that
/// goroutines it readies go to that processor's runnext, and finishing what the call woke
/// (managed parties resolved, an idle worker woken for readied goroutines).</summary>
internal static unsafe class Engine
{
    /// <summary>The run queue of the processor the calling worker holds, or null for a
    /// thread that holds none.</summary>
    public static sp_runq* Here
    {
        get
        {
            Processor? p = Machine.CurrentMachine?.P;
            return p is null ? null : p.RunQ.Native;
        }
    }

    /// <summary>Finishes what a call woke.</summary>
    public static void Finish(in sp_wakes woken)
    {
        if (woken.managed != null)
            NativeParty.Resolve(woken.managed);
        if (woken.readied != 0)
            Runtime.CurrentScheduler?.Wakep();
    }
}
