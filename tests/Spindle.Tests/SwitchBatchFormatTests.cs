using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Xunit;
using static Spindle.Tests.TraceTestSupport;

namespace Spindle.Tests;

/// <summary>The text form switch trace batches travel in (SwitchTraceFormat), through the
/// Spindle-Runtime EventSource, EventPipe and TraceEvent.</summary>
public class SwitchBatchFormatTests
{
    /// <summary>The batch format survives EventPipe and TraceEvent exactly: random batches,
    /// the empty one, the full one, and bytes of every value at every position.</summary>
    [Fact]
    public void BatchFormatRoundTripsThroughEventPipeAndTraceEvent()
    {
        var random = new Random(15);
        var sent = new List<byte[]>();
        int[] counts = [0, 1, 2, 3, 7, 100, 1000, 1791, 1792];
        foreach (int n in counts)
        {
            var bytes = new byte[n * SwitchTraceRecord.Size];
            random.NextBytes(bytes);
            sent.Add(bytes);
        }
        sent.Add(Enumerable.Repeat((byte)0xff, 1792 * SwitchTraceRecord.Size).ToArray());
        sent.Add(new byte[1792 * SwitchTraceRecord.Size]);
        sent.Add(Enumerable.Range(0, 1792 * SwitchTraceRecord.Size).Select(i => (byte)i).ToArray());

        // Only the Switch keyword: the native tracer runs meanwhile, with nothing to record.
        var provider = new EventPipeProvider("Spindle-Runtime", EventLevel.Informational, (long)RuntimeEvents.Keywords.Switch);
        var file = new MemoryStream();
        Session(file, [provider], () =>
        {
            for (int i = 0; i < sent.Count; i++)
            {
                var text = new char[SwitchTraceFormat.EncodedLength(sent[i].Length)];
                int n = SwitchTraceFormat.Encode(sent[i], text);
                Assert.True(text.All(c => c != '\0' && !char.IsSurrogate(c)));
                RuntimeEvents.Log.SwitchBatch(1_000_000 + i, 7, sent[i].Length / SwitchTraceRecord.Size, i, 3_000_000_000, 5, 6,
                    new string(text, 0, n));
            }
        });
        file.Position = 0;
        var got = new Dictionary<long, byte[]>();
        using (var source = new EventPipeEventSource(file))
        {
            source.Dynamic.All += e =>
            {
                if (e.ProviderName != "Spindle-Runtime" || (int)e.ID != RuntimeEventIds.SwitchBatch)
                    return;
                long seq = Convert.ToInt64(e.PayloadByName("sequence"));
                if (seq < 1_000_000)
                    return;
                Assert.Equal(7, Convert.ToInt32(e.PayloadByName("thread")));
                Assert.Equal(seq - 1_000_000, Convert.ToInt64(e.PayloadByName("droppedBefore")));
                Assert.Equal(3_000_000_000L, Convert.ToInt64(e.PayloadByName("ticksPerSecond")));
                int count = Convert.ToInt32(e.PayloadByName("count"));
                var bytes = new byte[count * SwitchTraceRecord.Size];
                Assert.True(SwitchTraceFormat.TryDecode((string)e.PayloadByName("records"), bytes));
                got[seq] = bytes;
            };
            source.Process();
            Assert.Equal(0, source.EventsLost);
        }
        Assert.Equal(sent.Count, got.Count);
        for (int i = 0; i < sent.Count; i++)
            Assert.Equal(sent[i], got[1_000_000 + i]);
    }

    /// <summary>The text form refuses what is not its encoding.</summary>
    /// <summary>Encode works in blocks of 15 bytes and a tail: every tail length, and
    /// blocks over every byte value, decode back exactly (TryDecode reads a byte at a time).</summary>
    [Fact]
    public void EveryLengthRoundTripsThroughTheBlockEncoder()
    {
        var random = new Random(8);
        for (int length = 0; length <= 3 * 15 + 14; length++)
        {
            foreach (byte[] bytes in new[] { Bytes(length, random), Enumerable.Repeat((byte)0xff, length).ToArray(), new byte[length] })
            {
                var text = new char[SwitchTraceFormat.EncodedLength(length)];
                Assert.Equal(text.Length, SwitchTraceFormat.Encode(bytes, text));
                Assert.True(text.All(c => c >= 1 && c <= 0x8000), $"length {length}: a character out of range");
                var back = new byte[length];
                Assert.True(SwitchTraceFormat.TryDecode(text, back), $"length {length}");
                Assert.Equal(bytes, back);
            }
        }

        static byte[] Bytes(int n, Random r)
        {
            var b = new byte[n];
            r.NextBytes(b);
            return b;
        }
    }

    [Fact]
    public void BatchFormatRefusesDamagedText()
    {
        var bytes = new byte[64];
        var text = new char[SwitchTraceFormat.EncodedLength(bytes.Length)];
        SwitchTraceFormat.Encode(bytes, text);
        Assert.True(SwitchTraceFormat.TryDecode(text, bytes));
        Assert.False(SwitchTraceFormat.TryDecode(text.AsSpan(1), bytes)); // too short
        text[3] = '\u9000';
        Assert.False(SwitchTraceFormat.TryDecode(text, bytes)); // out of range
        Assert.Null(SwitchTraceFormat.DecodeRecords("abc", 5));
    }
}
