using System.Diagnostics.Tracing;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

/// <summary>The native switch trace (libspindle's trace.c), from the managed side: it runs
/// while a session enables the Switch keyword of the Spindle-Runtime EventSource (dotnet-trace,
/// <c>spindle trace record</c>, an in-process EventPipe session), or as a flight recorder that
/// keeps the last megabytes in memory and sends them, on request, on a deadlock and on a
/// goroutine's failure, to the sessions listening then (<c>spindle run --flight-recorder</c>
/// opens one to a .nettrace file). A thread of its own drains the native batches into
/// SwitchBatch events; libspindle counts what it had to drop, and every drop is reported.</summary>
public static unsafe class SwitchTrace
{
    private static readonly Lock s_lock = new();
    private static readonly int* s_active = (int*)sp_trace_active_word();
    private static Thread? s_drain;
    private static volatile bool s_stopDrain;
    private static Mode s_mode;
    private static long s_flightBytes;
    private static Action<string>? s_onFailure;
    private static volatile bool s_dumping;
    private static RuntimeEvents? s_events;

    /// <summary>The EventSource, also while its constructor runs (its first command).</summary>
    private static RuntimeEvents Events => s_events ?? RuntimeEvents.Log;

    private enum Mode
    {
        Off,
        Streaming,
        Flight,
        Sample, // a few milliseconds for the meter's histograms
    }

    /// <summary>Batches a streaming trace keeps in memory while its session falls behind:
    /// 64 MiB unless the session's BufferMB argument says otherwise
    /// (<c>--providers Spindle-Runtime:0x20:4:BufferMB=256</c>).</summary>
    public const int DefaultBufferMegabytes = 64;

    /// <summary>True while the native tracer records (streaming or flight recorder). One load:
    /// the scheduler asks before each of its marks.</summary>
    internal static bool Active => *s_active != 0;

    /// <summary>True while a session streams the switch trace.</summary>
    public static bool IsStreaming => s_mode == Mode.Streaming;

    /// <summary>True while the flight recorder runs.</summary>
    public static bool IsFlightRecording => s_mode == Mode.Flight;

    /// <summary>False when this libspindle was built with the tracer compiled out.</summary>
    public static bool Available
    {
        get
        {
            sp_trace_stats s;
            sp_trace_get_stats(&s);
            return s.compiled != 0;
        }
    }

    // What traces that ended counted, so that Stats only grows (a flush ends one and starts another).
    private static long s_endedRecords, s_endedDropped, s_endedBatches, s_endedOverwritten;

    /// <summary>The native tracer's counts since the process started, every trace added up;
    /// the buffer and the stamp's cost are the trace's running now or last run.</summary>
    public static SwitchTraceStats Stats
    {
        get
        {
            SwitchTraceStats now = Current;
            return now with
            {
                Records = now.Records + Volatile.Read(ref s_endedRecords),
                Dropped = now.Dropped + Volatile.Read(ref s_endedDropped),
                Batches = now.Batches + Volatile.Read(ref s_endedBatches),
                OverwrittenBatches = now.OverwrittenBatches + Volatile.Read(ref s_endedOverwritten),
            };
        }
    }

    /// <summary>The counts of the trace running now, or last run.</summary>
    private static SwitchTraceStats Current
    {
        get
        {
            sp_trace_stats s;
            sp_trace_get_stats(&s);
            return new SwitchTraceStats((long)s.records, (long)s.dropped, (long)s.published_batches,
                (long)s.overwritten_batches, s.buffer_bytes,
                s.ticks_per_second == 0 ? 0 : s.stamp_ticks * 1e9 / s.ticks_per_second);
        }
    }

    /// <summary>A trace ended (released): its counts join the process's.</summary>
    private static void AddEnded(SwitchTraceStats ended)
    {
        s_endedRecords += ended.Records;
        s_endedDropped += ended.Dropped;
        s_endedBatches += ended.Batches;
        s_endedOverwritten += ended.OverwrittenBatches;
    }

    // ---------------------------------------------------------------- streaming

    /// <summary>The EventSource's sessions changed: stream while one wants the Switch keyword
    /// (a flight recorder's own dump session excepted).</summary>
    internal static void SessionsChanged(RuntimeEvents events, bool switchEnabled, IDictionary<string, string?>? arguments)
    {
        if (s_dumping || (arguments is not null && arguments.TryGetValue("Dump", out string? dump) && dump == "1"))
            return; // a session for the flight recorder's batches: it receives them, it starts nothing
        lock (s_lock)
        {
            // The first command may come while RuntimeEvents.Log is being constructed.
            s_events = events;
            if (switchEnabled && s_mode == Mode.Sample)
                StopLocked(emit: false);
            if (switchEnabled && s_mode == Mode.Off)
            {
                long bytes = (long)DefaultBufferMegabytes << 20;
                if (arguments is not null && arguments.TryGetValue("BufferMB", out string? text) &&
                    long.TryParse(text, out long asked) && asked > 0)
                    bytes = Math.Min(asked, 16 * 1024) << 20;
                // BufferKB: finer, down to one batch (about 57 KiB; tests make it drop so).
                if (arguments is not null && arguments.TryGetValue("BufferKB", out string? kb) &&
                    long.TryParse(kb, out long askedKb) && askedKb > 0)
                    bytes = Math.Max(Math.Min(askedKb, 16L << 20) << 10, (long)SP_TRACE_BATCH_BYTES);
                StartLocked(Mode.Streaming, bytes);
            }
            else if (!switchEnabled && s_mode == Mode.Streaming)
            {
                StopLocked(emit: true);
            }
        }
    }

    /// <summary>Writes out every record so far while the sessions that stream the trace are
    /// still there: a streaming trace ends (its last batches sent, then its end) and starts
    /// again at once. The runtime does this when it stops, and <c>spindle trace record</c>
    /// before it ends its session: records still in a thread's batch when a session ends
    /// would never reach it.</summary>
    public static void Flush()
    {
        lock (s_lock)
        {
            if (s_mode != Mode.Streaming)
                return;
            long bytes = Current.BufferBytes;
            StopLocked(emit: true);
            StartLocked(Mode.Streaming, bytes);
        }
    }

    private static void StartLocked(Mode mode, long bytes)
    {
        int rc = sp_trace_start(bytes, mode == Mode.Flight ? 1 : 0);
        if (rc == SP_ENOTSUP)
            return; // compiled out: nothing to record
        SpindleError.ThrowIfError(rc, "spindle: starting the switch trace");
        s_mode = mode;
        SwitchTraceStats stats = Current;
        if (mode == Mode.Streaming)
        {
            Events.SwitchTraceStarted(0, stats.BufferBytes, (long)TicksPerSecond(), stats.StampNanoseconds);
            s_stopDrain = false;
            s_drain = new Thread(Drain) { IsBackground = true, Name = "spindle trace" };
            s_drain.Start();
        }
    }

    private static ulong TicksPerSecond()
    {
        sp_trace_stats s;
        sp_trace_get_stats(&s);
        return s.ticks_per_second;
    }

    /// <summary>Stops the native trace; a streaming one's last batches go out as events.</summary>
    private static void StopLocked(bool emit)
    {
        if (s_mode == Mode.Off)
            return;
        Mode was = s_mode;
        sp_trace_stop();
        if (was == Mode.Streaming)
        {
            s_stopDrain = true;
            s_drain?.Join();
            s_drain = null;
            DrainOnce(emit); // what the threads' last batches held
            SwitchTraceStats stats = Current;
            if (emit)
            {
                if (stats.Dropped > 0)
                    Events.SwitchTraceDropped(stats.Dropped, stats.Records);
                Events.SwitchTraceStopped(stats.Records, stats.Dropped, stats.Batches, stats.OverwrittenBatches);
            }
        }
        else
        {
            for (sp_trace_batch* b = sp_trace_take(); b != null; b = sp_trace_take())
            {
                if (was == Mode.Sample && RuntimeMeter.HistogramsWanted)
                    RuntimeMeter.Record(Records(b), b->ticks_per_second, s_sampleLatency);
                sp_trace_give(b);
            }
        }
        if (was != Mode.Sample) // a sample's counts are the meter's, not a trace's
            AddEnded(Current);
        sp_trace_release();
        s_mode = Mode.Off;
    }

    private static void Drain()
    {
        long reportedDrops = 0;
        while (!s_stopDrain)
        {
            bool any = DrainOnce(emit: true);
            SwitchTraceStats now = Current;
            if (now.Dropped != reportedDrops)
            {
                reportedDrops = now.Dropped;
                Events.SwitchTraceDropped(now.Dropped, now.Records);
            }
            if (!any)
                Thread.Sleep(5);
        }
    }

    // The drain's buffers: a batch's text, and its records decoded for the meter.
    [ThreadStatic] private static char[]? t_text;
    [ThreadStatic] private static SwitchTraceRecord[]? t_records;

    private static ReadOnlySpan<byte> Bytes(sp_trace_batch* b) =>
        new((byte*)b + SP_TRACE_BATCH_HEADER, (int)Math.Min(b->bytes, SP_TRACE_BATCH_DATA));

    /// <summary>A batch's records, decoded into the calling thread's buffer (valid until its
    /// next call); none if the batch is damaged, which libspindle's own batches never are.</summary>
    private static ReadOnlySpan<SwitchTraceRecord> Records(sp_trace_batch* b)
    {
        SwitchTraceRecord[] records = t_records ??= new SwitchTraceRecord[SwitchTraceFormat.MaxRecords];
        Span<SwitchTraceRecord> span = records.AsSpan(0, (int)Math.Min(b->count, (uint)records.Length));
        return SwitchTraceFormat.TryDecodeRecords(Bytes(b), b->origin_ticks, span) ? span : default;
    }

    /// <summary>Sends every published batch as a SwitchBatch event; true if there was one.</summary>
    private static bool DrainOnce(bool emit)
    {
        bool any = false;
        for (sp_trace_batch* b = sp_trace_take(); b != null; b = sp_trace_take())
        {
            any = true;
            if (emit)
                Emit(b);
            sp_trace_give(b);
        }
        return any;
    }

    private static readonly RuntimeMeter.LatencyMatcher s_drainLatency = new();

    private static void Emit(sp_trace_batch* b)
    {
        if (RuntimeMeter.HistogramsWanted) // decoded only for a listener
            RuntimeMeter.Record(Records(b), b->ticks_per_second, s_drainLatency);
        char[] text = t_text ??= new char[SwitchTraceFormat.EncodedLength(SwitchTraceFormat.MaxBatchBytes) + 1];
        int n = SwitchTraceFormat.Encode(Bytes(b), text);
        fixed (char* p = text)
        {
            p[n] = '\0'; // WriteBatch sends the terminator too
            Events.WriteBatch((long)b->seq, (int)b->thread, (int)b->count, (long)b->dropped_before,
                (long)b->ticks_per_second, (long)b->origin_ticks, b->origin_ns, p, n);
        }
    }

    // ---------------------------------------------------------------- the meter's sample

    private static readonly RuntimeMeter.LatencyMatcher s_sampleLatency = new();

    /// <summary>Traces for about length, for the meter's histograms, unless another trace
    /// runs (a streaming one feeds them itself).</summary>
    internal static void Sample(TimeSpan length)
    {
        lock (s_lock)
        {
            if (s_mode != Mode.Off)
                return;
            if (sp_trace_start(2 << 20, 0) != SP_OK)
                return;
            s_mode = Mode.Sample;
        }
        Thread.Sleep(length);
        lock (s_lock)
        {
            if (s_mode == Mode.Sample)
                StopLocked(emit: false);
        }
    }

    // ---------------------------------------------------------------- flight recorder

    /// <summary>Starts the flight recorder: the last megabytes of the switch trace stay in
    /// memory (older batches are reused) until <see cref="WriteFlightRecorder"/> sends them.
    /// With onFailure, a deadlock or a goroutine's failure calls it with the reason first
    /// (it opens a session and calls <see cref="WriteFlightRecorder"/>: <c>spindle run
    /// --flight-recorder FILE</c> does so).</summary>
    /// <exception cref="InvalidOperationException">A trace already runs (a session streams
    /// one, or the flight recorder).</exception>
    public static void StartFlightRecorder(int megabytes = 16, Action<string>? onFailure = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(megabytes, 1);
        lock (s_lock)
        {
            if (s_mode == Mode.Sample)
                StopLocked(emit: false);
            if (s_mode != Mode.Off)
                throw new InvalidOperationException("spindle: a switch trace is already running");
            s_flightBytes = (long)megabytes << 20;
            s_onFailure = onFailure;
            StartLocked(Mode.Flight, s_flightBytes);
        }
    }

    /// <summary>Stops the flight recorder, discarding what it holds.</summary>
    public static void StopFlightRecorder()
    {
        lock (s_lock)
        {
            if (s_mode == Mode.Flight)
                StopLocked(emit: false);
            s_onFailure = null;
        }
    }

    /// <summary>A deadlock or a failure: the flight recorder's failure handler, if it has one,
    /// is told (never throws: the program is failing already).</summary>
    internal static void DumpOnFailure(string reason)
    {
        Action<string>? handler = s_onFailure;
        if (handler is null || s_mode != Mode.Flight)
            return;
        try
        {
            handler(reason);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"spindle: the flight recorder could not be written: {e.Message}");
        }
    }

    /// <summary>Sends what the flight recorder holds, as Spindle-Runtime events
    /// (SwitchTraceStarted with mode 1, its SwitchBatch events, SwitchTraceStopped,
    /// FlightRecorderWritten), to the sessions listening now, and keeps recording. A session
    /// meant for them enables the Switch keyword with the argument Dump=1, which starts no
    /// streaming trace of its own. Returns the number of batches sent.</summary>
    /// <exception cref="InvalidOperationException">The flight recorder is not running.</exception>
    public static int WriteFlightRecorder(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        lock (s_lock)
        {
            if (s_mode != Mode.Flight)
                throw new InvalidOperationException("spindle: the flight recorder is not running");
            sp_trace_stop();
            var batches = new List<byte[]>();
            for (sp_trace_batch* b = sp_trace_take(); b != null; b = sp_trace_take())
            {
                var copy = new byte[(int)SP_TRACE_BATCH_HEADER + Bytes(b).Length];
                new ReadOnlySpan<byte>(b, copy.Length).CopyTo(copy);
                batches.Add(copy);
                sp_trace_give(b);
            }
            SwitchTraceStats stats = Current;
            AddEnded(stats);
            sp_trace_release();
            s_mode = Mode.Off;
            s_dumping = true;
            try
            {
                Events.SwitchTraceStarted(1, stats.BufferBytes, batches.Count > 0 ? (long)TicksOf(batches[0]) : 0, stats.StampNanoseconds);
                foreach (byte[] raw in batches)
                    fixed (byte* p = raw)
                        Emit((sp_trace_batch*)p); // the copy: its bytes follow its header as the batch's did
                Events.SwitchTraceStopped(stats.Records, stats.Dropped, stats.Batches, stats.OverwrittenBatches);
                Events.FlightRecorderWritten(reason, batches.Count);
            }
            finally
            {
                s_dumping = false;
                StartLocked(Mode.Flight, s_flightBytes);
            }
            return batches.Count;
        }
    }

    private static ulong TicksOf(byte[] batch)
    {
        fixed (byte* p = batch)
            return ((sp_trace_batch*)p)->ticks_per_second;
    }
}
