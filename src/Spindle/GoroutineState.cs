using Spindle.Interop;

namespace Spindle;

/// <summary>What a goroutine is doing, as a dump reports it.</summary>
public enum GoroutineState
{
    /// <summary>Ready to run, in a run queue.</summary>
    Runnable = SpindleHost.SP_G_RUNNABLE, // numbered once, in spindle_host.h
    /// <summary>Running on a worker.</summary>
    Running = SpindleHost.SP_G_RUNNING,
    /// <summary>Parked until something wakes it (see <see cref="WaitReason"/>).</summary>
    Waiting = SpindleHost.SP_G_WAITING,
    /// <summary>Inside sp_block_enter/sp_block_exit: running a call that may block its thread.</summary>
    Blocking = SpindleHost.SP_G_BLOCKING,
    /// <summary>Finished.</summary>
    Dead = SpindleHost.SP_G_DEAD,
}

/// <summary>Why a goroutine is waiting.</summary>
public enum WaitReason
{
    /// <summary>Not waiting.</summary>
    None = SpindleHost.SP_WAIT_NONE, // numbered once, in spindle_host.h
    /// <summary>sp_sleep or <see cref="Runtime.Sleep"/>.</summary>
    Sleep = SpindleHost.SP_WAIT_SLEEP,
    /// <summary>A wait group's counter to reach zero.</summary>
    WaitGroup = SpindleHost.SP_WAIT_WAIT_GROUP,
    /// <summary>A channel send.</summary>
    ChanSend = SpindleHost.SP_WAIT_CHAN_SEND,
    /// <summary>A channel receive.</summary>
    ChanReceive = SpindleHost.SP_WAIT_CHAN_RECV,
    /// <summary>A send on the nil channel: forever.</summary>
    ChanSendNilChan = SpindleHost.SP_WAIT_CHAN_SEND_NIL,
    /// <summary>A receive from the nil channel: forever.</summary>
    ChanReceiveNilChan = SpindleHost.SP_WAIT_CHAN_RECV_NIL,
    /// <summary>A select over several cases.</summary>
    Select = SpindleHost.SP_WAIT_SELECT,
    /// <summary>A select with no cases: forever.</summary>
    SelectNoCases = SpindleHost.SP_WAIT_SELECT_NO_CASES,
    /// <summary>A mutex's lock.</summary>
    Mutex = SpindleHost.SP_WAIT_MUTEX,
    /// <summary>A managed goroutine awaiting something outside Spindle (a Task, I/O):
    /// another thread may wake it, so it never counts towards a deadlock.</summary>
    External = SpindleHost.SP_WAIT_EXTERNAL,
}

/// <summary>How a goroutine runs.</summary>
public enum GoroutineKind
{
    /// <summary>Native code on its own stack, switched by libspindle.</summary>
    Native,
    /// <summary>A C# async method; its continuations run on the workers' own stacks.</summary>
    Managed,
}

/// <summary>One goroutine, as <see cref="Runtime.Dump"/> reports it.</summary>
/// <param name="Id">The goroutine's id: unique in its runtime, never reused; the main goroutine's is 1.</param>
/// <param name="Kind">Native or managed.</param>
/// <param name="State">What it is doing.</param>
/// <param name="Reason">What it waits on, when <paramref name="State"/> is Waiting.</param>
/// <param name="TimeInState">How long it has been in that state.</param>
public sealed record GoroutineInfo(long Id, GoroutineKind Kind, GoroutineState State, WaitReason Reason,
    TimeSpan TimeInState)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"goroutine {Id} [{(State == GoroutineState.Waiting ? Describe(Reason) : State.ToString().ToLowerInvariant())}, " +
        $"{TimeInState.TotalMilliseconds:0} ms] ({Kind.ToString().ToLowerInvariant()})";

    /// <summary>A wait reason as Go's goroutine dump writes it.</summary>
    public static string Describe(WaitReason reason) => reason switch
    {
        WaitReason.WaitGroup => "sync.WaitGroup.Wait",
        WaitReason.ChanSend => "chan send",
        WaitReason.ChanReceive => "chan receive",
        WaitReason.ChanSendNilChan => "chan send (nil chan)",
        WaitReason.ChanReceiveNilChan => "chan receive (nil chan)",
        WaitReason.Select => "select",
        WaitReason.SelectNoCases => "select (no cases)",
        WaitReason.Mutex => "sync.Mutex.Lock",
        _ => reason.ToString().ToLowerInvariant(),
    };
}
