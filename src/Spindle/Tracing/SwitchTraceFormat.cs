using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Spindle.Interop;

namespace Spindle;

/// <summary>What a switch trace record is about (spindle_host.h's SP_TRACE_*).</summary>
public enum SwitchTraceKind : byte
{
    /// <summary><see cref="SwitchTraceRecord.A"/> left its thread and <see cref="SwitchTraceRecord.B"/>
    /// ran next (A 0: the thread came from idle; B 0: it had nothing to run). Followed by
    /// its <see cref="Parts"/>.</summary>
    Switch = 1,
    /// <summary>The parts of the switch before it (<see cref="SwitchTraceRecord.Part"/>).</summary>
    Parts = 2,
    /// <summary>A was created by B (0: by the host or a thread).</summary>
    Create = 3,
    /// <summary>A finished.</summary>
    Exit = 4,
    /// <summary>A parked on the object whose handle is B (0: several or none).</summary>
    Block = 5,
    /// <summary>A was made runnable by goroutine B (0: a timer, the host or a thread).</summary>
    Unblock = 6,
    /// <summary>The thread had nothing to run and parked.</summary>
    Idle = 7,
    /// <summary>The thread looked for work.</summary>
    Spin = 8,
    /// <summary>A entered (why 1) or left (why 0) a blocking call.</summary>
    Blocking = 9,
    /// <summary>A goroutine stack grew by a segment of B bytes.</summary>
    Stack = 10,
    /// <summary>The thread holds processor A from now on (-1: none).</summary>
    Processor = 11,
}

/// <summary>Why a goroutine left its thread (<see cref="SwitchTraceRecord.Why"/> of a switch).</summary>
public enum SwitchReason : byte
{
    /// <summary>Not a switch, or not known.</summary>
    None = 0,
    /// <summary>A yield.</summary>
    Yield = 1,
    /// <summary>It parked (<see cref="SwitchTraceRecord.Wait"/> says on what).</summary>
    Parked = 2,
    /// <summary>It finished.</summary>
    Exited = 3,
    /// <summary>A runtime call the managed scheduler served.</summary>
    Call = 4,
    /// <summary>The native run loop stopped (its budget spent, a full queue).</summary>
    Stopped = 5,
    /// <summary>A managed goroutine's step ended.</summary>
    Step = 6,
}

/// <summary>The parts a switch's cost is split into (<see cref="SwitchTraceRecord.Part"/>).</summary>
public enum SwitchPart
{
    /// <summary>Saving and restoring registers, switching stacks.</summary>
    SaveRestore = 0,
    /// <summary>The native run loop's work: queues, timers, picking the next goroutine.</summary>
    Decision = 1,
    /// <summary>The run loop's return into the managed scheduler (native to managed).</summary>
    ToManaged = 2,
    /// <summary>The managed scheduler's work.</summary>
    Managed = 3,
    /// <summary>The managed scheduler's call into the run loop (managed to native).</summary>
    ToNative = 4,
}

/// <summary>One record of the switch trace, as libspindle decodes a batch's compact bytes
/// (spindle_host.h's sp_trace_record; a <see cref="SwitchTraceKind.Parts"/> record is
/// sp_trace_parts in the same 32 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
public readonly struct SwitchTraceRecord
{
    /// <summary>The processor's counter when it happened (a switch: when B began to run).</summary>
    public readonly ulong Ticks;
    /// <summary>A goroutine id, per kind.</summary>
    public readonly long A;
    /// <summary>A goroutine id or a handle, per kind.</summary>
    public readonly long B;
    /// <summary>What it is about.</summary>
    public readonly SwitchTraceKind Kind;
    private readonly byte _why;
    private readonly byte _wait;
    /// <summary>SP_TRACE_F_* bits: 1 restore not timed, 2 a part saturated, 4 a direct
    /// switch, 8 through the run loop, 16 through the managed scheduler, 32 not timed.</summary>
    public readonly byte Flags;
    /// <summary>The processor the thread held (-1: none, or not known).</summary>
    public readonly int Processor;

    /// <summary>Bytes of one record.</summary>
    public const int Size = 32;
    /// <summary>Flags: the switch went straight from one goroutine to the next.</summary>
    public const byte FlagDirect = 4;
    /// <summary>Flags: the switch went through the managed scheduler.</summary>
    public const byte FlagViaManaged = 16;
    /// <summary>Flags: the restore was not timed (the goroutine landed where nothing stamps).</summary>
    public const byte FlagRestoreUntimed = 1;
    /// <summary>Flags: the switch was not timed (a direct switch carries its end alone, its parts
    /// 0): libspindle times one direct switch in <see cref="DirectSwitchesPerTimed"/>, at
    /// random.</summary>
    public const byte FlagUntimed = 32;
    /// <summary>Direct switches one timed direct switch stands for, on average: what a reader
    /// weighs it by against switches through the run loop or the managed scheduler, which are
    /// timed always (spindle_host.h's SP_TRACE_TIME_EVERY).</summary>
    public const int DirectSwitchesPerTimed = (int)SpindleHost.SP_TRACE_TIME_EVERY;

    /// <summary>How many switches a timed switch record stands for: <see cref="DirectSwitchesPerTimed"/>
    /// for a direct one (the untimed ones around it), 1 for one through the run loop or the
    /// managed scheduler.</summary>
    public int SampleWeight => (Flags & FlagDirect) != 0 ? DirectSwitchesPerTimed : 1;

    /// <summary>A switch's reason.</summary>
    public SwitchReason Why => (SwitchReason)_why;
    /// <summary>A record's raw why byte (a blocking record: 1 enter, 0 leave).</summary>
    public byte WhyByte => _why;
    /// <summary>What a parked goroutine waits for.</summary>
    public WaitReason Wait => (WaitReason)_wait;

    /// <summary>A <see cref="SwitchTraceKind.Parts"/> record's part, in ticks.</summary>
    public uint Part(SwitchPart part) => (int)part switch
    {
        0 => (uint)Ticks,
        1 => (uint)(Ticks >> 32),
        2 => (uint)A,
        3 => (uint)((ulong)A >> 32),
        4 => (uint)B,
        _ => throw new ArgumentOutOfRangeException(nameof(part)),
    };

    /// <summary>A <see cref="SwitchTraceKind.Parts"/> record's whole, in ticks.</summary>
    public ulong PartsTotal => (ulong)(uint)Ticks + (uint)(Ticks >> 32) + (uint)A + (uint)((ulong)A >> 32) + (uint)B;
}

/// <summary>The text form a batch of switch trace records travels in, inside the
/// SwitchBatch event of the Spindle-Runtime EventSource: the batch's bytes, 15 bits to a
/// character, each character 1 + those bits (U+0001..U+8000: never 0, which ends a string in
/// an event payload, and never a surrogate, which text decoders may replace). A byte[]
/// payload is not used because EventPipe mis-decodes those of manifest EventSources
/// (dotnet/runtime#82423); this form round-trips exactly through EventPipe and TraceEvent.</summary>
public static class SwitchTraceFormat
{
    /// <summary>The characters that carry byteCount bytes.</summary>
    public static int EncodedLength(int byteCount) => (byteCount * 8 + 14) / 15;

    /// <summary>Writes bytes into chars (at least <see cref="EncodedLength"/> of them);
    /// returns how many it wrote.</summary>
    public static int Encode(ReadOnlySpan<byte> bytes, Span<char> chars)
    {
        int n = EncodedLength(bytes.Length);
        if (chars.Length < n)
            throw new ArgumentException("too few characters for the bytes", nameof(chars));
        // 15 bytes are 8 characters exactly: whole blocks two loads each (the drain encodes
        // every byte of a streamed trace, about 8 times faster than a byte at a time), then
        // the tail a byte at a time.
        int i = 0, o = 0;
        for (; i + 15 <= bytes.Length; i += 15, o += 8)
        {
            ulong lo = BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..]);
            ulong hi = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i + 7)..]) >> 8; // bytes 8..14
            chars[o] = Char15(lo);
            chars[o + 1] = Char15(lo >> 15);
            chars[o + 2] = Char15(lo >> 30);
            chars[o + 3] = Char15(lo >> 45);
            chars[o + 4] = Char15((lo >> 60) | (hi << 4));
            chars[o + 5] = Char15(hi >> 11);
            chars[o + 6] = Char15(hi >> 26);
            chars[o + 7] = Char15(hi >> 41);
        }
        uint acc = 0;
        int bits = 0;
        foreach (byte b in bytes[i..])
        {
            acc |= (uint)b << bits;
            bits += 8;
            if (bits >= 15)
            {
                chars[o++] = Char15(acc);
                acc >>= 15;
                bits -= 15;
            }
        }
        if (bits > 0)
            chars[o++] = Char15(acc);
        return o;
    }

    private static char Char15(ulong bits) => (char)(1 + (bits & 0x7fff));

    /// <summary>Reads byteCount bytes back from text; false when text is not their encoding
    /// (wrong length, a character out of range).</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        if (text.Length != EncodedLength(bytes.Length))
            return false;
        uint acc = 0;
        int bits = 0, o = 0;
        foreach (char c in text)
        {
            if (c < 1 || c > 0x8000)
                return false;
            acc |= (uint)(c - 1) << bits;
            bits += 15;
            while (bits >= 8 && o < bytes.Length)
            {
                bytes[o++] = (byte)acc;
                acc >>= 8;
                bits -= 8;
            }
        }
        return o == bytes.Length;
    }

    /// <summary>The most bytes text of this length can carry (the bytes it was made from, or
    /// one more, which decoding a batch ignores).</summary>
    public static int DecodedLength(int textLength) => (int)((long)textLength * 15 / 8);

    /// <summary>The count records a batch's text holds (its batch began at originTicks),
    /// or null when it is not their encoding.</summary>
    public static SwitchTraceRecord[]? DecodeRecords(string text, int count, ulong originTicks)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (count < 0 || count > MaxRecords)
            return null;
        var records = new SwitchTraceRecord[count];
        return TryDecodeRecords(text, originTicks, records) ? records : null;
    }

    /// <summary>The most records one batch decodes to.</summary>
    public const int MaxRecords = (int)SpindleHost.SP_TRACE_BATCH_RECORDS;

    /// <summary>The most bytes one batch's records take.</summary>
    public const int MaxBatchBytes = (int)SpindleHost.SP_TRACE_BATCH_DATA;

    [ThreadStatic] private static byte[]? t_bytes;

    /// <summary>Decodes a batch's text into records, as many as records holds (the batch's
    /// count; it began at originTicks); false when the text does not hold them.</summary>
    public static unsafe bool TryDecodeRecords(ReadOnlySpan<char> text, ulong originTicks, Span<SwitchTraceRecord> records)
    {
        int length = DecodedLength(text.Length);
        if (length > MaxBatchBytes + 1)
            return false;
        byte[] bytes = t_bytes ??= new byte[MaxBatchBytes + 1];
        return TryDecode(text, bytes.AsSpan(0, length)) && TryDecodeRecords(bytes.AsSpan(0, length), originTicks, records);
    }

    /// <summary>Decodes a batch's bytes (libspindle's compact form, which libspindle alone
    /// writes and reads) into records, as many as records holds; false when the bytes do
    /// not hold them.</summary>
    public static unsafe bool TryDecodeRecords(ReadOnlySpan<byte> bytes, ulong originTicks, Span<SwitchTraceRecord> records)
    {
        fixed (byte* data = bytes)
        fixed (SwitchTraceRecord* output = records)
            return SpindleHost.sp_trace_decode(data, bytes.Length, records.Length, originTicks,
                (sp_trace_record*)output, records.Length) == records.Length;
    }
}
