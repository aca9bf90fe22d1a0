using System.Threading.Tasks.Sources;

namespace Spindle.Benchmarks;

/// <summary>
/// What await and resume alone cost a ping-pong round trip, on one thread: two async loops
/// hand a value back and forth through a rendezvous whose waiter is a reusable
/// IValueTaskSource, and one loop runs the continuations they queue. No lock, no native call,
/// no scheduler beyond a queue: what any managed goroutine's round trip pays at least,
/// beside which a managed channel's figure shows the runtime's own share.
/// </summary>
internal static class AwaitFloor
{
    /// <summary>Runs rounds round trips; returns the counter (rounds).</summary>
    public static long PingPong(int rounds)
    {
        var ping = new Rendezvous();
        var pong = new Rendezvous();
        var run = new Queue<(Action<object?> Continuation, object? State)>();
        ping.Run = pong.Run = run;
        Task<long> ponger = Ponger(ping, pong, rounds); // waits on ping at once
        Task<long> pinger = Pinger(ping, pong, rounds);
        while (run.TryDequeue(out var step))
            step.Continuation(step.State);
        if (!pinger.IsCompletedSuccessfully || !ponger.IsCompletedSuccessfully)
            throw new InvalidOperationException("the await floor's loops did not finish");
        return pinger.Result;
    }

    private static async Task<long> Ponger(Rendezvous ping, Rendezvous pong, int rounds)
    {
        for (int i = 0; i < rounds; i++)
            pong.Send(await ping.Receive() + 1);
        return rounds;
    }

    private static async Task<long> Pinger(Rendezvous ping, Rendezvous pong, int rounds)
    {
        long v = 0;
        for (int i = 0; i < rounds; i++)
        {
            ValueTask<long> reply = pong.Receive();
            ping.Send(v);
            v = await reply;
        }
        return v;
    }

    /// <summary>One waiting receiver at a time, and the value a sender gives it.</summary>
    private sealed class Rendezvous : IValueTaskSource<long>
    {
        private ManualResetValueTaskSourceCore<long> _core;
        private Action<object?>? _continuation;
        private object? _state;
        public Queue<(Action<object?>, object?)> Run = null!;

        public ValueTask<long> Receive() => new(this, _core.Version);

        public void Send(long value)
        {
            _core.SetResult(value);
            if (_continuation is { } c)
            {
                _continuation = null;
                Run.Enqueue((c, _state));
            }
        }

        public long GetResult(short token)
        {
            long v = _core.GetResult(token);
            _core.Reset();
            return v;
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        {
            _continuation = continuation;
            _state = state;
        }
    }
}
