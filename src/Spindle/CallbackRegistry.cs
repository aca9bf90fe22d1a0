using static Spindle.Interop.SpindleNative;

namespace Spindle;

/// <summary>Managed callbacks that native goroutines run with sp_call. A callback runs on
/// the worker's OS stack, to completion; an exception becomes SP_ECALLBACK for the
/// goroutine and a trace event, never a crash of the worker.</summary>
internal sealed class CallbackRegistry
{
    private readonly Lock _lock = new();
    private Func<nint, long>?[] _callbacks = new Func<nint, long>?[8];

    public int Register(Func<nint, long> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_lock)
        {
            for (int i = 1; i < _callbacks.Length; i++)
            {
                if (_callbacks[i] is null)
                {
                    _callbacks[i] = callback;
                    return i;
                }
            }
            int id = _callbacks.Length;
            Array.Resize(ref _callbacks, id * 2);
            _callbacks[id] = callback;
            return id;
        }
    }

    public bool Unregister(int id)
    {
        lock (_lock)
        {
            if (id <= 0 || id >= _callbacks.Length || _callbacks[id] is null)
                return false;
            _callbacks[id] = null;
            return true;
        }
    }

    public int Invoke(long goroutine, int id, nint arg, out long result)
    {
        result = 0;
        Func<nint, long>?[] table = Volatile.Read(ref _callbacks);
        Func<nint, long>? callback = id > 0 && id < table.Length ? table[id] : null;
        if (callback is null)
            return SP_EINVAL;
        try
        {
            result = callback(arg);
            return SP_OK;
        }
        catch (Exception e)
        {
            RuntimeEvents.Log.CallbackFailed(goroutine, id, e.GetType().FullName ?? "?", e.Message);
            return SP_ECALLBACK;
        }
    }
}
