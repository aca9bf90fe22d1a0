using System.Threading.Channels;
using Xunit;
using static Spindle.Runtime;
using static Spindle.Tests.CancellationTests;
using BclChannelClosedException = System.Threading.Channels.ChannelClosedException;

namespace Spindle.Tests;

/// <summary>Chan&lt;T&gt;.Reader and .Writer against the contract dotnet/runtime's channel
/// tests state for every ChannelReader and ChannelWriter (completion, errors, cancellation,
/// what completes at once, ValueTask use), for an unbuffered channel (a rendezvous, as the
/// BCL's bounded channel of capacity 0 is where it has one) and a buffered one; then Go's
/// semantics where the two differ, and code written only against the BCL abstractions
/// reading a channel that goroutines write.</summary>
public class ChannelAdapterTests
{
    private const int Buffered = 4;

    [Fact]
    public void ReaderAndWriterAreOneObjectEachOverTheSameChannel()
    {
        var ch = new Chan<int>(Buffered);
        Assert.Same(ch.Reader, ch.Reader);
        Assert.Same(ch.Writer, ch.Writer);
        Assert.True(ch.Writer.TryWrite(5));
        Assert.Equal(1, ch.Count);
        Assert.True(ch.TryReceive(out int v) && v == 5);
        Assert.True(ch.TrySend(6));
        Assert.True(ch.Reader.TryRead(out v) && v == 6);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Buffered)]
    public void CompletionIsOneTaskCompletedByComplete(int capacity)
    {
        var ch = new Chan<int>(capacity);
        Task completion = ch.Reader.Completion;
        Assert.False(completion.IsCompleted);
        Assert.Same(completion, ch.Reader.Completion);
        ch.Writer.Complete();
        Assert.Same(completion, ch.Reader.Completion);
        Assert.Equal(TaskStatus.RanToCompletion, completion.Status);
    }

    [Fact]
    public void CompletionWaitsUntilTheLastItemIsRead()
    {
        var ch = new Chan<int>(Buffered);
        Assert.True(ch.Writer.TryWrite(1) && ch.Writer.TryWrite(2));
        Assert.True(ch.Writer.TryComplete());
        Assert.False(ch.Reader.Completion.IsCompleted);
        Assert.True(ch.Reader.TryRead(out _));
        Assert.False(ch.Reader.Completion.IsCompleted);
        Assert.True(ch.Reader.TryRead(out _));
        Assert.True(ch.Reader.Completion.IsCompletedSuccessfully);
        Assert.False(ch.Reader.TryRead(out _));
    }

    [Fact]
    public void CompleteTwiceThrowsAndTryCompleteAnswersFalse()
    {
        var ch = new Chan<int>();
        Assert.True(ch.Writer.TryComplete());
        Assert.False(ch.Writer.TryComplete());
        Assert.Throws<BclChannelClosedException>(() => ch.Writer.Complete());
        // Go's close and the writer's complete are one: each sees the other.
        Assert.Throws<Spindle.ChannelClosedException>(ch.Close);
        var other = new Chan<int>();
        other.Close();
        Assert.False(other.Writer.TryComplete());
        Assert.True(other.Reader.Completion.IsCompletedSuccessfully);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Buffered)]
    public void ACompletionErrorReachesCompletionReadersAndWriters(int capacity) => Bounded(async () =>
    {
        var ch = new Chan<int>(capacity);
        ValueTask<bool> waiting = ch.Reader.WaitToReadAsync();
        ValueTask<int> reading = ch.Reader.ReadAsync();
        var error = new FormatException();
        Assert.True(ch.Writer.TryComplete(error));
        Assert.Same(error, await Assert.ThrowsAsync<FormatException>(() => ch.Reader.Completion));
        // Waiting before, and after.
        Assert.Same(error, await Assert.ThrowsAsync<FormatException>(async () => await waiting));
        Assert.Same(error, await Assert.ThrowsAsync<FormatException>(async () => await ch.Reader.WaitToReadAsync()));
        Assert.Same(error, (await Assert.ThrowsAsync<BclChannelClosedException>(async () => await reading)).InnerException);
        Assert.Same(error, (await Assert.ThrowsAsync<BclChannelClosedException>(async () => await ch.Reader.ReadAsync())).InnerException);
        Assert.Same(error, (await Assert.ThrowsAsync<BclChannelClosedException>(async () => await ch.Writer.WriteAsync(1))).InnerException);
        Assert.Same(error, await Assert.ThrowsAsync<FormatException>(async () => await ch.Writer.WaitToWriteAsync()));
        Assert.False(ch.Writer.TryWrite(1));
        Assert.False(ch.Reader.TryRead(out _));
    });

    [Fact]
    public void AParkedWriterFailsWithTheCompletionError() => Bounded(async () =>
    {
        var ch = new Chan<int>(); // full: no receiver
        ValueTask write = ch.Writer.WriteAsync(42);
        Assert.False(write.IsCompleted);
        var error = new FormatException();
        ch.Writer.Complete(error);
        Assert.Same(error, (await Assert.ThrowsAsync<BclChannelClosedException>(async () => await write)).InnerException);
    });

    [Fact]
    public void ACancellationAsTheCompletionErrorCancelsCompletionAndReads() => Bounded(async () =>
    {
        var cts = new CancellationTokenSource();
        cts.Cancel();
        var ch = new Chan<int>();
        Assert.True(ch.Writer.TryComplete(new OperationCanceledException(cts.Token)));
        Assert.True(ch.Reader.Completion.IsCanceled);
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ch.Reader.Completion);
        Assert.Equal(cts.Token, e.CancellationToken);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await ch.Reader.ReadAsync());
    });

    [Theory]
    [InlineData(0)]
    [InlineData(Buffered)]
    public void CompletingWakesAWaitingReaderAndCompletion(int capacity) => Bounded(async () =>
    {
        var ch = new Chan<int>(capacity);
        Task<int> read = ch.Reader.ReadAsync().AsTask();
        ValueTask<bool> wait = ch.Reader.WaitToReadAsync();
        Assert.False(read.IsCompleted || wait.IsCompleted);
        ch.Writer.Complete();
        await ch.Reader.Completion;
        await Assert.ThrowsAsync<BclChannelClosedException>(() => read);
        Assert.False(await wait);
        ValueTask<bool> after = ch.Reader.WaitToReadAsync();
        Assert.True(after.IsCompletedSuccessfully);
        Assert.False(after.Result);
        ValueTask<bool> writable = ch.Writer.WaitToWriteAsync();
        Assert.True(writable.IsCompletedSuccessfully);
        Assert.False(writable.Result);
        await Assert.ThrowsAsync<BclChannelClosedException>(async () => await ch.Writer.WriteAsync(1));
    });

    [Theory]
    [InlineData(0)]
    [InlineData(Buffered)]
    public void WaitToReadAsyncCompletesAtOnceWithDataAndLaterWithout(int capacity) => Bounded(async () =>
    {
        var ch = new Chan<int>(capacity);
        ValueTask write = ch.Writer.WriteAsync(42); // parks on the rendezvous: no reader yet
        ValueTask<bool> ready = ch.Reader.WaitToReadAsync();
        Assert.True(ready.IsCompletedSuccessfully);
        Assert.True(ready.Result);
        await write; // the rendezvous happened in WaitToReadAsync
        Assert.Equal(1, ch.Reader.Count);
        Assert.True(ch.Reader.TryRead(out int v));
        Assert.Equal(42, v);

        ValueTask<bool> later = ch.Reader.WaitToReadAsync();
        Assert.False(later.IsCompleted);
        await ch.Writer.WriteAsync(43);
        Assert.True(await later);
        Assert.True(ch.Reader.TryPeek(out v) && v == 43);
        Assert.Equal(43, await ch.Reader.ReadAsync());
        Assert.False(ch.Reader.TryPeek(out _));
    });

    [Theory]
    [InlineData(0)]
    [InlineData(Buffered)]
    public void ConsecutiveReadsAfterWaitsAndWritesSucceed(int capacity) => Bounded(async () =>
    {
        var ch = new Chan<int>(capacity);
        for (int i = 0; i < 5; i++)
        {
            ValueTask<bool> wait = ch.Reader.WaitToReadAsync();
            await ch.Writer.WriteAsync(i);
            Assert.True(await wait);
            Assert.True(ch.Reader.TryRead(out int item));
            Assert.Equal(i, item);
        }
        for (int i = 0; i < 5; i++)
        {
            ValueTask<int> read = ch.Reader.ReadAsync();
            await ch.Writer.WriteAsync(i);
            Assert.Equal(i, await read);
        }
    });

    [Theory]
    [InlineData(0)]
    [InlineData(Buffered)]
    public void WaitToWriteAsyncAnswersAtOnceWhenThereIsRoomAndWaitsForIt(int capacity) => Bounded(async () =>
    {
        var ch = new Chan<int>(capacity);
        if (capacity > 0)
            Assert.True(ch.Writer.WaitToWriteAsync().IsCompletedSuccessfully); // empty buffer
        for (int i = 0; i < capacity; i++)
            Assert.True(ch.Writer.TryWrite(i));
        Assert.False(ch.Writer.TryWrite(-1)); // full (unbuffered: no reader)
        ValueTask<bool> first = ch.Writer.WaitToWriteAsync(), second = ch.Writer.WaitToWriteAsync();
        Assert.False(first.IsCompleted || second.IsCompleted);
        ValueTask<int> reader = capacity == 0 ? ch.Reader.ReadAsync() : new ValueTask<int>(await ch.Reader.ReadAsync());
        Assert.True(await first);
        Assert.True(await second);
        ValueTask<bool> now = ch.Writer.WaitToWriteAsync(); // a reader waits, or a slot is free
        Assert.True(now.IsCompletedSuccessfully);
        Assert.True(ch.Writer.TryWrite(7));
        if (capacity == 0)
            Assert.Equal(7, await reader);
    });

    [Theory]
    [InlineData(0)]
    [InlineData(Buffered)]
    public void ATokenAlreadyCancelledEndsEveryOperationAtOnceEvenWithDataReady(int capacity) => Bounded(async () =>
    {
        var ch = new Chan<int>(capacity);
        ValueTask parked = ch.Writer.WriteAsync(42); // data ready for the reader either way
        var cancelled = new CancellationToken(canceled: true);
        Assert.True(ch.Writer.WriteAsync(1, cancelled).IsCanceled);
        Assert.True(ch.Writer.WaitToWriteAsync(cancelled).IsCanceled);
        Assert.True(ch.Reader.ReadAsync(cancelled).IsCanceled);
        Assert.True(ch.Reader.WaitToReadAsync(cancelled).IsCanceled);
        Assert.True(ch.Reader.TryRead(out int v) && v == 42); // nothing was taken
        Assert.True(parked.IsCompletedSuccessfully);
        await parked;
    });

    [Theory]
    [InlineData(0)]
    [InlineData(Buffered)]
    public void ACancelledReadTakesNothingAndTheNextReaderGetsTheWrite(int capacity) => Bounded(async () =>
    {
        var ch = new Chan<int>(capacity);
        for (int i = 0; i < 5; i++)
        {
            var cts = new CancellationTokenSource();
            ValueTask<int> read = ch.Reader.ReadAsync(cts.Token);
            ValueTask<bool> wait = ch.Reader.WaitToReadAsync(cts.Token);
            Assert.False(read.IsCompleted || wait.IsCompleted);
            cts.Cancel();
            Assert.Equal(cts.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read)).CancellationToken);
            Assert.Equal(cts.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait)).CancellationToken);
            Assert.Equal((0, 0, false), Queues(ch));
        }
        Assert.Equal(capacity > 0, ch.Writer.TryWrite(-1)); // no reader is left waiting
        Assert.True(capacity == 0 || ch.Reader.TryRead(out _));
        for (int i = 0; i < 7; i++)
        {
            ValueTask<int> read = ch.Reader.ReadAsync();
            await ch.Writer.WriteAsync(i);
            Assert.Equal(i, await read);
        }
    });

    [Fact]
    public void ACancelledWriteOnARendezvousLeavesTheOthersInOrder() => Bounded(async () =>
    {
        var ch = new Chan<int>();
        var cts = new CancellationTokenSource();
        ValueTask first = ch.Writer.WriteAsync(42);
        ValueTask second = ch.Writer.WriteAsync(43, cts.Token);
        ValueTask third = ch.Writer.WriteAsync(44);
        cts.Cancel();
        Assert.Equal(42, await ch.Reader.ReadAsync());
        Assert.Equal(44, await ch.Reader.ReadAsync());
        await first;
        Assert.Equal(cts.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await second)).CancellationToken);
        await third;
        // A rendezvous counts nothing: values wait in their senders.
        Assert.True(ch.Reader.CanCount);
        Assert.Equal(0, ch.Reader.Count);
        Assert.False(ch.Writer.TryWrite(1));
        Assert.False(ch.Reader.TryRead(out _));
    });

    [Fact]
    public void ManyParkedWritesAreReadInOrderWithTryRead()
    {
        var ch = new Chan<int>();
        var writes = new ValueTask[200];
        for (int i = 0; i < writes.Length; i++)
            writes[i] = ch.Writer.WriteAsync(i);
        for (int i = 0; i < writes.Length; i++)
        {
            Assert.True(ch.Reader.TryRead(out int v));
            Assert.Equal(i, v);
        }
        Bounded(async () =>
        {
            foreach (ValueTask w in writes)
            {
                Assert.True(w.IsCompletedSuccessfully);
                await w;
            }
        });
    }

    // What is tested here is GetResult itself, on a ValueTask not done and on one spent.
#pragma warning disable xUnit1031
    [Fact]
    public void TheValueTasksKeepTheirContract()
    {
        var ch = new Chan<int>();
        ValueTask<int> read = ch.Reader.ReadAsync();
        Assert.Throws<InvalidOperationException>(() => read.GetAwaiter().GetResult()); // not done
        var continued = new ManualResetEventSlim();
        read.GetAwaiter().OnCompleted(continued.Set);
        Assert.Throws<InvalidOperationException>(() => read.GetAwaiter().OnCompleted(() => { })); // one continuation
        Assert.True(ch.Writer.TryWrite(42));
        Assert.True(continued.Wait(Deadline));
        Assert.Equal(42, read.GetAwaiter().GetResult());
        // Awaited once, the ValueTask is spent: its party may serve another wait already.
        Assert.Throws<InvalidOperationException>(() => read.GetAwaiter().GetResult());
        Assert.Throws<InvalidOperationException>(() => read.IsCompleted);
    }
#pragma warning restore xUnit1031

    [Theory]
    [InlineData(0)]
    [InlineData(Buffered)]
    public void ReadAllAsyncStopsAtCompletionAndEndsWithItsToken(int capacity) => Bounded(async () =>
    {
        var ch = new Chan<int>(capacity);
        Task producer = Task.Run(async () =>
        {
            for (int i = 0; i < 128; i++)
                await ch.Writer.WriteAsync(i);
            ch.Writer.Complete();
        });
        int sum = 0;
        await foreach (int v in ch.Reader.ReadAllAsync())
            sum += v;
        await producer;
        Assert.Equal(127 * 128 / 2, sum);

        var open = new Chan<int>(capacity);
        var cts = new CancellationTokenSource();
        IAsyncEnumerator<int> e = open.Reader.ReadAllAsync(cts.Token).GetAsyncEnumerator();
        ValueTask<bool> next = e.MoveNextAsync();
        Assert.False(next.IsCompleted);
        cts.Cancel();
        Assert.Equal(cts.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await next)).CancellationToken);
        Assert.False(await e.MoveNextAsync());
        Assert.Equal((0, 0, false), Queues(open));
    });

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 4)]
    public void ManyReadersAndWritersThroughTheAdaptersMoveEveryValueOnce(int readers, int writers) => Bounded(async () =>
    {
        var ch = new Chan<int>();
        const int items = 4000;
        long total = 0;
        int remaining = items, writing = writers;
        var tasks = new List<Task>();
        for (int r = 0; r < readers; r++)
        {
            tasks.Add(Task.Run(async () =>
            {
                while (await ch.Reader.WaitToReadAsync())
                    if (ch.Reader.TryRead(out int v))
                        Interlocked.Add(ref total, v);
            }));
        }
        for (int w = 0; w < writers; w++)
        {
            tasks.Add(Task.Run(async () =>
            {
                for (int v; (v = Interlocked.Decrement(ref remaining)) >= 0;)
                    await ch.Writer.WriteAsync(v + 1);
                if (Interlocked.Decrement(ref writing) == 0)
                    ch.Writer.Complete();
            }));
        }
        await Task.WhenAll(tasks);
        Assert.Equal(items * (items + 1L) / 2, total);
        await ch.Reader.Completion;
    });

    [Fact]
    public void AReleasedChannelsAdaptersThrowObjectDisposed() => Bounded(async () =>
    {
        var ch = new Chan<int>(1);
        ChannelReader<int> reader = ch.Reader;
        ChannelWriter<int> writer = ch.Writer;
        ch.ReleaseHandle();
        Assert.Throws<ObjectDisposedException>(() => writer.TryWrite(1));
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out _));
        Assert.Throws<ObjectDisposedException>(() => writer.TryComplete());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await writer.WriteAsync(1));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await writer.WaitToWriteAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await reader.ReadAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await reader.WaitToReadAsync());
    });

    // ---- code written only against the BCL abstractions -------------------------------

    /// <summary>A consumer as ASP.NET Core or a pipeline would write it: it knows
    /// ChannelReader and nothing of Spindle.</summary>
    private static async Task<(long Sum, int Count)> Consume(ChannelReader<long> reader, CancellationToken cancellationToken)
    {
        long sum = 0;
        int count = 0;
        await foreach (long v in reader.ReadAllAsync(cancellationToken))
        {
            sum += v;
            count++;
        }
        await reader.Completion;
        return (sum, count);
    }

    /// <summary>A producer in the BCL's idiom: WaitToWriteAsync, then TryWrite.</summary>
    private static async Task Produce(ChannelWriter<long> writer, long from, int count)
    {
        for (long v = from; v < from + count;)
        {
            if (!await writer.WaitToWriteAsync())
                return;
            if (writer.TryWrite(v))
                v++;
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(2, 16)]
    public void BclCodeReadsAChannelThatGoroutinesWrite(int maxProcs, int capacity)
    {
        var ch = new Chan<long>(capacity);
        (long Sum, int Count) got = default;
        const int perWriter = 500;
        RunBounded(async () =>
        {
            var writers = new WaitGroup();
            for (int w = 0; w < 3; w++)
            {
                long from = w * 1000L;
                writers.Go(async () =>
                {
                    for (long v = from; v < from + perWriter; v++)
                        await ch.SendAsync(v);
                });
            }
            // BCL code on both sides: a producer that only knows ChannelWriter, a consumer
            // on the thread pool that only knows ChannelReader.
            writers.Go(() => Produce(ch.Writer, 5000, perWriter));
            Task<(long, int)> consumer = Task.Run(() => Consume(ch.Reader, CancellationToken.None));
            await writers.WaitAsync();
            ch.Writer.Complete();
            got = await consumer;
        }, maxProcs);
        long expected = 0;
        foreach (long from in new[] { 0L, 1000, 2000, 5000 })
            for (long v = from; v < from + perWriter; v++)
                expected += v;
        Assert.Equal((expected, 4 * perWriter), got);
    }
}
