using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Spindle;

namespace Spindle.Benchmarks;

/// <summary>Switch and channel costs, side by side: native goroutines yielding and on
/// Spindle channels, managed goroutines on the same channels, and .NET async
/// System.Threading.Channels; bench/run.sh runs the same programs in Go and with OS threads
/// and prints the ratios. All on one processor (GOMAXPROCS=1), as the Go figures are.</summary>
[InProcess]
[WarmupCount(1)]
[IterationCount(10)]
[Config(typeof(InNanoseconds))]
public class ChannelBenchmarks
{
    private const int Rounds = 1_000_000;   // ping-pong round trips
    private const int RingSize = 10_000, RingLaps = 100; // bench_chan_ring's laps
    private const int Primes = 5_000;
    private nint _yieldPair, _pingPong, _selectPingPong, _ring, _sieve;

    [GlobalSetup]
    public void Setup()
    {
        _yieldPair = BenchPrograms.Get("bench_yield_pair");
        _pingPong = BenchPrograms.Get("bench_chan_pingpong");
        _selectPingPong = BenchPrograms.Get("bench_select_pingpong");
        _ring = BenchPrograms.Get("bench_chan_ring");
        _sieve = BenchPrograms.Get("bench_sieve");
    }

    /// <summary>One switch between two native goroutines yielding to each other.</summary>
    [Benchmark(OperationsPerInvoke = 2 * Rounds)]
    public void SpindleYieldSwitch() => Runtime.Run(_yieldPair, Rounds, maxProcs: 1);

    /// <summary>A round trip between two native goroutines over two unbuffered channels.</summary>
    [Benchmark(OperationsPerInvoke = Rounds)]
    public void SpindleChanPingPong() => Runtime.Run(_pingPong, Rounds, maxProcs: 1);

    /// <summary>The same round trip with every send and receive a select over two channels
    /// (the value's and a quit channel that is never ready).</summary>
    [Benchmark(OperationsPerInvoke = Rounds)]
    public void SpindleSelectPingPong() => Runtime.Run(_selectPingPong, Rounds, maxProcs: 1);

    /// <summary>A hop of a token around a ring of 10,000 native goroutines.</summary>
    [Benchmark(OperationsPerInvoke = RingSize * RingLaps)]
    public void SpindleChanRing() => Runtime.Run(_ring, RingSize, maxProcs: 1);

    /// <summary>The concurrent prime sieve to the 5,000th prime (one operation: the whole run).</summary>
    [Benchmark]
    public void SpindleSieve() => Runtime.Run(_sieve, Primes, maxProcs: 1);

    /// <summary>The same round trip between two managed goroutines over Chan&lt;long&gt;.</summary>
    [Benchmark(OperationsPerInvoke = Rounds / 10)]
    public void SpindleManagedChanPingPong()
    {
        var ping = new Chan<long>();
        var pong = new Chan<long>();
        Runtime.Run(async () =>
        {
            Runtime.Go(async () =>
            {
                for (int i = 0; i < Rounds / 10; i++)
                    await pong.SendAsync(await ping.ReceiveAsync());
            });
            long v = 0;
            for (int i = 0; i < Rounds / 10; i++)
            {
                await ping.SendAsync(v);
                v = await pong.ReceiveAsync();
            }
        }, maxProcs: 1);
    }

    /// <summary>The select ping-pong between two managed goroutines: each send and receive a
    /// select over the value's channel and a quit channel that is never ready (the selects
    /// are made once and reused; the values sent are constants).</summary>
    [Benchmark(OperationsPerInvoke = Rounds / 10)]
    public void SpindleManagedSelectPingPong()
    {
        var ping = new Chan<long>();
        var pong = new Chan<long>();
        var quit = new Chan<Signal>();
        Runtime.Run(async () =>
        {
            Runtime.Go(async () =>
            {
                var receive = new Select();
                receive.Receive(ping);
                receive.Receive(quit);
                var send = new Select();
                send.Send(pong, 1L);
                send.Receive(quit);
                for (int i = 0; i < Rounds / 10; i++)
                {
                    await receive.WaitAsync();
                    await send.WaitAsync();
                }
            });
            var sendPing = new Select();
            sendPing.Send(ping, 1L);
            sendPing.Receive(quit);
            var receivePong = new Select();
            receivePong.Receive(pong);
            receivePong.Receive(quit);
            for (int i = 0; i < Rounds / 10; i++)
            {
                await sendPing.WaitAsync();
                await receivePong.WaitAsync();
            }
        }, maxProcs: 1);
    }

    /// <summary>A channel element with no fields: a signal (Go's chan struct{}).</summary>
    private struct Signal;

    /// <summary>The managed round trip with a cancellable receive whose token is never
    /// cancelled, beside <see cref="SpindleManagedChanPingPong"/>: what watching a token
    /// costs a wait that parks (a registration on the token, and its removal).</summary>
    [Benchmark(OperationsPerInvoke = Rounds / 10)]
    public void SpindleManagedChanPingPongCancellable()
    {
        var ping = new Chan<long>();
        var pong = new Chan<long>();
        using var cts = new CancellationTokenSource();
        CancellationToken token = cts.Token;
        Runtime.Run(async () =>
        {
            Runtime.Go(async () =>
            {
                for (int i = 0; i < Rounds / 10; i++)
                    await pong.SendAsync(await ping.ReceiveAsync(token));
            });
            long v = 0;
            for (int i = 0; i < Rounds / 10; i++)
            {
                await ping.SendAsync(v);
                v = await pong.ReceiveAsync(token);
            }
        }, maxProcs: 1);
    }

    /// <summary>The managed round trip through Chan.Writer and Chan.Reader, the
    /// System.Threading.Channels adapters, beside <see cref="SpindleManagedChanPingPong"/>:
    /// what the adapters add.</summary>
    [Benchmark(OperationsPerInvoke = Rounds / 10)]
    public void SpindleAdapterChanPingPong()
    {
        var ping = new Chan<long>();
        var pong = new Chan<long>();
        ChannelReader<long> pingReader = ping.Reader, pongReader = pong.Reader;
        ChannelWriter<long> pingWriter = ping.Writer, pongWriter = pong.Writer;
        Runtime.Run(async () =>
        {
            Runtime.Go(async () =>
            {
                for (int i = 0; i < Rounds / 10; i++)
                    await pongWriter.WriteAsync(await pingReader.ReadAsync());
            });
            long v = 0;
            for (int i = 0; i < Rounds / 10; i++)
            {
                await pingWriter.WriteAsync(v);
                v = await pongReader.ReadAsync();
            }
        }, maxProcs: 1);
    }

    /// <summary>Await and resume alone, on one thread (<see cref="AwaitFloor"/>): the least
    /// any managed round trip costs, beside <see cref="SpindleManagedChanPingPong"/>.</summary>
    [Benchmark(OperationsPerInvoke = Rounds / 10)]
    public long AwaitFloorPingPong() => AwaitFloor.PingPong(Rounds / 10);

    /// <summary>The .NET peer: two async loops over System.Threading.Channels (the
    /// single-reader, single-writer unbounded kind, its fastest), on the thread pool.</summary>
    [Benchmark(OperationsPerInvoke = Rounds / 10)]
    public void DotNetAsyncChannelPingPong()
    {
        var options = new UnboundedChannelOptions { SingleReader = true, SingleWriter = true };
        var ping = Channel.CreateUnbounded<long>(options);
        var pong = Channel.CreateUnbounded<long>(options);
        Task partner = Task.Run(async () =>
        {
            for (int i = 0; i < Rounds / 10; i++)
                await pong.Writer.WriteAsync(await ping.Reader.ReadAsync());
        });
        Task.Run(async () =>
        {
            long v = 0;
            for (int i = 0; i < Rounds / 10; i++)
            {
                await ping.Writer.WriteAsync(v);
                v = await pong.Reader.ReadAsync();
            }
        }).Wait();
        partner.Wait();
    }
}
