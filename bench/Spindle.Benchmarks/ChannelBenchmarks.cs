using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;
using Spindle;

namespace Spindle.Benchmarks;

/// <summary>Channel costs, side by side: native goroutines on Spindle channels, managed
/// goroutines on the same channels, and .NET async System.Threading.Channels; bench/run.sh
/// runs the same programs in Go and with OS threads and prints the ratios. All on one
/// processor (GOMAXPROCS=1), as the Go figures are.</summary>
[InProcess]
[WarmupCount(1)]
[IterationCount(3)]
[Config(typeof(InNanoseconds))]
public class ChannelBenchmarks
{
    /// <summary>One time unit for every row, so bench/run.sh can read the table.</summary>
    private sealed class InNanoseconds : ManualConfig
    {
        public InNanoseconds() => SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Nanosecond);
    }

    private const int Rounds = 1_000_000;   // ping-pong round trips
    private const int RingSize = 10_000, RingLaps = 100; // bench_chan_ring's laps
    private const int Primes = 5_000;
    private nint _pingPong, _ring, _sieve;

    [GlobalSetup]
    public void Setup()
    {
        _pingPong = BenchPrograms.Get("bench_chan_pingpong");
        _ring = BenchPrograms.Get("bench_chan_ring");
        _sieve = BenchPrograms.Get("bench_sieve");
    }

    /// <summary>A round trip between two native goroutines over two unbuffered channels.</summary>
    [Benchmark(OperationsPerInvoke = Rounds)]
    public void SpindleChanPingPong() => Runtime.Run(_pingPong, Rounds, maxProcs: 1);

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

    /// <summary>The managed round trip with a cancellable receive whose token is never
    /// cancelled: each receive that parks registers on the token and unregisters (at most
    /// 10% over <see cref="SpindleManagedChanPingPong"/>).</summary>
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
    /// System.Threading.Channels adapters (at most 1.2x <see cref="SpindleManagedChanPingPong"/>).</summary>
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
