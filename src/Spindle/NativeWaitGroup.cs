using Spindle.Interop;
using static Spindle.Interop.SpindleNative;

namespace Spindle;

/// <summary>
/// A wait group made by sp_wg_make. Its counter lives in native memory (sp_wg_state,
/// wg_native.c), where a goroutine's sp_wg_add and sp_wg_wait complete without a runtime
/// call unless someone must park or be woken; those come here, and change the same
/// fields under the same lock. Only native goroutines of the runtime that made it use
/// it, so its waiters are always that scheduler's.
/// </summary>
internal sealed unsafe class NativeWaitGroup : IHandleOwner
{
    private readonly Scheduler _sched;
    private readonly sp_wg_state* _state;
    private readonly ChanLock _lock;
    private Goroutine? _waiters; // under _lock, counted in _state->waiters

    private NativeWaitGroup(Scheduler sched, sp_wg_state* state)
    {
        _sched = sched;
        _state = state;
        _lock = new ChanLock(&state->@lock);
    }

    ulong IHandleOwner.Handle { get; set; }

    /// <summary>A new wait group, registered and published under its handle; 0 and the
    /// error when there is no memory for it.</summary>
    public static ulong Make(Scheduler sched, out int err)
    {
        sp_wg_state* state;
        err = sp_wg_state_make(&state);
        if (err != SP_OK)
            return 0;
        var wg = new NativeWaitGroup(sched, state);
        ulong handle = Registry.WaitGroups.Add(wg);
        err = sp_wg_publish(handle, state);
        if (err != SP_OK)
        {
            Registry.WaitGroups.Release(handle, _ => SP_OK);
            sp_wg_state_free(state);
            return 0;
        }
        sched.RememberWaitGroup(wg);
        return handle;
    }

    public bool HasWaiters => Volatile.Read(ref _state->waiters) != 0;

    /// <summary>Adds delta; at zero every waiter wakes. SP_EINVAL, and the counter left
    /// as it was, when it would become negative.</summary>
    public int Add(long delta)
    {
        Goroutine? wake;
        using (_lock.Hold())
        {
            long next = _state->count + delta;
            if (next < 0)
                return SP_EINVAL;
            _state->count = next;
            if (next != 0 || _waiters is null)
                return SP_OK;
            wake = _waiters;
            _waiters = null;
            _state->waiters = 0;
        }
        while (wake is not null)
        {
            Goroutine? next = wake.Link;
            wake.Link = null;
            wake.SetState(GoroutineState.Runnable);
            _sched.Ready(wake);
            wake = next;
        }
        return SP_OK;
    }

    /// <summary>Parks a native goroutine until the counter is zero; false if it already is.</summary>
    public bool Park(Goroutine g)
    {
        using (_lock.Hold())
        {
            if (_state->count == 0)
                return false;
            g.SetState(GoroutineState.Waiting, WaitReason.WaitGroup);
            g.Link = _waiters;
            _waiters = g;
            _state->waiters++;
            return true;
        }
    }

    /// <summary>Withdraws the handle (sp_wg_release): SP_ESTATE while goroutines wait,
    /// SP_ESTALE for a handle already released.</summary>
    public static int Release(ulong handle)
    {
        NativeWaitGroup? released = null;
        int verdict = Registry.WaitGroups.Release(handle, wg =>
        {
            if (wg.HasWaiters)
                return SP_ESTATE;
            released = wg;
            return SP_OK;
        });
        if (released is not null)
            released.Free();
        return verdict;
    }

    /// <summary>Released by its runtime as it stops (goroutines still waiting are
    /// discarded with it).</summary>
    public void ReleaseAtStop()
    {
        if (Registry.WaitGroups.Release(((IHandleOwner)this).Handle, _ => SP_OK) == SP_OK)
            Free();
    }

    private void Free()
    {
        _sched.ForgetWaitGroup(this);
        sp_wg_state_free(_state); // withdraws the handle under the state's lock
    }
}
