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
        const int full = SwitchTraceFormat.MaxBatchBytes;
        int[] lengths = [0, 1, 2, 3, 7, 100, 1000, full - 1, full];
        foreach (int n in lengths)
        {
            var bytes = new byte[n];
            random.NextBytes(bytes);
            sent.Add(bytes);
        }
        sent.Add(Enumerable.Repeat((byte)0xff, full).ToArray());
        sent.Add(new byte[full]);
        sent.Add(Enumerable.Range(0, full).Select(i => (byte)i).ToArray());

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
                // The count field carries the byte length here: the text form alone is tested.
                RuntimeEvents.Log.SwitchBatch(1_000_000 + i, 7, sent[i].Length, i, 3_000_000_000, 5, 6,
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
                var bytes = new byte[Convert.ToInt32(e.PayloadByName("count"))];
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

    /// <summary>The text form refuses what is not its encoding.</summary>
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
        Assert.Null(SwitchTraceFormat.DecodeRecords("abc", 5, 0));
        Assert.Null(SwitchTraceFormat.DecodeRecords("abc", -1, 0));
        Assert.Null(SwitchTraceFormat.DecodeRecords("abc", SwitchTraceFormat.MaxRecords + 1, 0));
        Assert.Throws<ArgumentNullException>(() => SwitchTraceFormat.DecodeRecords(null!, 1, 0));
        Assert.False(SwitchTraceFormat.TryDecodeRecords(new string('\u0001', SwitchTraceFormat.EncodedLength(SwitchTraceFormat.MaxBatchBytes + 64)),
            0, new SwitchTraceRecord[1])); // longer than any batch
    }

    /// <summary>Records decode from libspindle's compact bytes only when the bytes hold them:
    /// a record of kind 0, a count the bytes do not reach, and a switch without its parts
    /// are refused; a well-formed event and switch come back field by field.</summary>
    [Fact]
    public void CompactBytesDecodeOnlyWhenTheyHoldTheirRecords()
    {
        // kind, why, wait, flags; ticks delta 5 (zigzag 10); processor 0 (+1); a 3 (zigzag 6); b -1 (zigzag 1)
        byte[] unblock = [(byte)SwitchTraceKind.Unblock, 0, 0, 0, 10, 1, 6, 1];
        // a switch: ticks delta 2, no processor, a 3, b 4; parts: save/restore 7, managed 300
        byte[] @switch = [(byte)SwitchTraceKind.Switch, 1, 0, 16, 4, 0, 6, 8, 0b01001, 7, 0xac, 0x02];
        byte[] both = [.. unblock, .. @switch];
        var records = new SwitchTraceRecord[3];
        Assert.True(SwitchTraceFormat.TryDecodeRecords(both, 1000, records));
        Assert.Equal((SwitchTraceKind.Unblock, 1005UL, 0, 3L, -1L), (records[0].Kind, records[0].Ticks, records[0].Processor, records[0].A, records[0].B));
        Assert.Equal((SwitchTraceKind.Switch, 1007UL, -1, 3L, 4L, SwitchReason.Yield), (records[1].Kind, records[1].Ticks, records[1].Processor, records[1].A, records[1].B, records[1].Why));
        Assert.Equal(SwitchTraceKind.Parts, records[2].Kind);
        Assert.Equal((7u, 0u, 300u, 307UL), (records[2].Part(SwitchPart.SaveRestore), records[2].Part(SwitchPart.Decision), records[2].Part(SwitchPart.Managed), records[2].PartsTotal));

        Assert.False(SwitchTraceFormat.TryDecodeRecords(both.AsSpan(0, both.Length - 1), 1000, records)); // truncated
        Assert.False(SwitchTraceFormat.TryDecodeRecords(both, 1000, new SwitchTraceRecord[4])); // a count beyond them
        Assert.False(SwitchTraceFormat.TryDecodeRecords(both, 1000, new SwitchTraceRecord[2])); // a switch cut from its parts
        byte[] zero = new byte[16];
        Assert.False(SwitchTraceFormat.TryDecodeRecords(zero, 0, new SwitchTraceRecord[1])); // kind 0
    }
}
