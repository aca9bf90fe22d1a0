using static Spindle.Interop.SpindleNative;

namespace Spindle;

/// <summary>Go's sync.Mutex for every kind of user: not owned (anyone may unlock it),
/// waiters queue in arrival order and an unlock hands the mutex straight to the first
/// of them, so none starves.</summary>
internal sealed class MutexCore : IHandleOwner
{
    private readonly Lock _lock = new();
    private bool _locked;
    private Parker? _first, _last;

    public MutexCore(bool visibleOutside) => VisibleOutside = visibleOutside;

    public bool VisibleOutside;
    public ulong Handle { get; set; }

    public bool TryLock()
    {
        lock (_lock)
        {
            if (_locked)
                return false;
            _locked = true;
            return true;
        }
    }

    /// <summary>Locks, or queues p and parks it (false): it is woken holding the mutex.</summary>
    public bool LockOrPark(Parker p)
    {
        lock (_lock)
        {
            if (!_locked)
            {
                _locked = true;
                return true;
            }
            p.Mutex = this;
            p.NextParker = null;
            if (_last is null) _first = p; else _last.NextParker = p;
            _last = p;
            p.BeforePark(WaitReason.Mutex, VisibleOutside);
            return false;
        }
    }

    /// <summary>SP_OK, or SP_ESTATE when it is not locked.</summary>
    public int Unlock()
    {
        Parker? next;
        lock (_lock)
        {
            if (!_locked)
                return SP_ESTATE;
            do
            {
                next = _first;
                if (next is null)
                {
                    _locked = false;
                    return SP_OK;
                }
                _first = next.NextParker;
                if (_first is null)
                    _last = null;
                next.NextParker = null;
            }
            while (!next.TryClaim(0)); // skip one whose runtime stopped
        }
        next.Wake(); // it owns the mutex now
        return SP_OK;
    }

    /// <summary>Takes a parker out of the queue (a runtime stopping); true if it was there.</summary>
    public bool Remove(Parker p)
    {
        lock (_lock)
        {
            Parker? prev = null;
            for (Parker? q = _first; q is not null; prev = q, q = q.NextParker)
            {
                if (q != p)
                    continue;
                if (prev is null) _first = q.NextParker; else prev.NextParker = q.NextParker;
                if (_last == q) _last = prev;
                q.NextParker = null;
                return true;
            }
            return false;
        }
    }

    /// <summary>For release: SP_ESTATE while locked or waited on.</summary>
    public int CheckIdle()
    {
        lock (_lock)
            return _locked || _first is not null ? SP_ESTATE : SP_OK;
    }
}
