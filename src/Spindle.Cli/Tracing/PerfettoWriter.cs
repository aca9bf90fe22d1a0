using System.Text.Json;

namespace Spindle.Cli.Tracing;

/// <summary>A timeline in Chrome's trace-event JSON, which ui.perfetto.dev opens: a track per
/// worker thread and per processor, named; a slice per goroutine run; an arrow from each
/// unblock to the run it caused; a counter track of runnable goroutines. Written as the
/// report reads the trace, so memory stays bounded; timestamps are microseconds with three
/// decimals, so nanoseconds survive. Slices on one track never overlap: a slice that would
/// begin before the last one on its track ended begins at that end (records of different
/// threads disagree by a few nanoseconds at most, and a processor may pass between threads
/// while a goroutine still runs without it).</summary>
internal sealed class PerfettoWriter : IDisposable
{
    private const int WorkersPid = 1, ProcessorsPid = 2, CountersPid = 3;
    private readonly FileStream _file;
    private readonly Utf8JsonWriter _json;
    private readonly long _limit;
    private readonly Dictionary<(int, int), long> _trackEnd = [];
    private readonly HashSet<int> _processors = [];
    private long _flows;
    private long _runnable, _lastCounterNs = long.MinValue;
    private bool _finished;

    public long Slices { get; private set; }
    public bool Truncated { get; private set; }

    public PerfettoWriter(string path, long limit)
    {
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        _json = new Utf8JsonWriter(_file);
        _limit = limit;
        _json.WriteStartObject();
        _json.WriteString("displayTimeUnit", "ns");
        _json.WriteStartArray("traceEvents");
        Meta("process_name", WorkersPid, 0, "Spindle workers");
        Meta("process_sort_index", WorkersPid, 0, null, 1);
        Meta("process_name", ProcessorsPid, 0, "Spindle processors (P)");
        Meta("process_sort_index", ProcessorsPid, 0, null, 2);
        Meta("process_name", CountersPid, 0, "Spindle scheduler");
        Meta("process_sort_index", CountersPid, 0, null, 3);
    }

    private void Meta(string name, int pid, int tid, string? value, int sort = 0)
    {
        _json.WriteStartObject();
        _json.WriteString("name", name);
        _json.WriteString("ph", "M");
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        _json.WriteStartObject("args");
        if (value is not null)
            _json.WriteString("name", value);
        else
            _json.WriteNumber("sort_index", sort);
        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    private static double Us(long ns) => Math.Round(ns / 1000.0, 3);

    public void NameWorker(int thread) => Meta("thread_name", WorkersPid, thread, $"worker thread {thread}");

    public void NameProcessor(int processor)
    {
        if (processor >= 0 && _processors.Add(processor))
            Meta("thread_name", ProcessorsPid, processor, $"P{processor}");
    }

    /// <summary>Goroutine g ran on worker (holding processor, -1 for none) from start to end.</summary>
    public void Run(int worker, int processor, long g, long start, long end)
    {
        if (Slices >= _limit)
        {
            Truncated = true;
            return;
        }
        Slices++;
        Slice(WorkersPid, worker, g, start, end);
        if (processor >= 0)
        {
            NameProcessor(processor);
            Slice(ProcessorsPid, processor, g, start, end);
        }
    }

    private void Slice(int pid, int tid, long g, long start, long end)
    {
        if (_trackEnd.TryGetValue((pid, tid), out long last) && start < last)
            start = last;
        if (end <= start)
            return;
        _trackEnd[(pid, tid)] = end;
        _json.WriteStartObject();
        _json.WriteString("name", $"goroutine {g}");
        _json.WriteString("cat", "run");
        _json.WriteString("ph", "X");
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        _json.WriteNumber("ts", Us(start));
        _json.WriteNumber("dur", Us(end) - Us(start));
        _json.WriteStartObject("args");
        _json.WriteNumber("goroutine", g);
        _json.WriteEndObject();
        _json.WriteEndObject();
        FlushNow();
    }

    /// <summary>Utf8JsonWriter holds what it wrote until flushed: a megabyte at most.</summary>
    private void FlushNow()
    {
        if (_json.BytesPending > 1 << 20)
            _json.Flush();
    }

    /// <summary>An arrow from an unblock (on fromWorker at fromNs) to the run it caused.</summary>
    public void Flow(int fromWorker, long fromNs, int toWorker, long toNs, long g)
    {
        if (Truncated)
            return;
        long id = ++_flows;
        foreach ((string ph, int tid, long ns) in new[] { ("s", fromWorker, fromNs), ("f", toWorker, toNs) })
        {
            _json.WriteStartObject();
            _json.WriteString("name", "unblock");
            _json.WriteString("cat", "wake");
            _json.WriteString("ph", ph);
            if (ph == "f")
                _json.WriteString("bp", "e");
            _json.WriteNumber("id", id);
            _json.WriteNumber("pid", WorkersPid);
            _json.WriteNumber("tid", tid);
            _json.WriteNumber("ts", Us(ns));
            _json.WriteStartObject("args");
            _json.WriteNumber("goroutine", g);
            _json.WriteEndObject();
            _json.WriteEndObject();
        }
        FlushNow();
    }

    /// <summary>Runnable goroutines changed by delta at ns (one sample per 10 us of trace).</summary>
    public void Runnable(long ns, int delta)
    {
        _runnable = Math.Max(0, _runnable + delta);
        if (Truncated || (_lastCounterNs != long.MinValue && ns - _lastCounterNs < 10_000))
            return;
        _lastCounterNs = ns;
        _json.WriteStartObject();
        _json.WriteString("name", "runnable goroutines");
        _json.WriteString("ph", "C");
        _json.WriteNumber("pid", CountersPid);
        _json.WriteNumber("tid", 0);
        _json.WriteNumber("ts", Us(ns));
        _json.WriteStartObject("args");
        _json.WriteNumber("runnable", _runnable);
        _json.WriteEndObject();
        _json.WriteEndObject();
        FlushNow();
    }

    /// <summary>Closes the JSON document.</summary>
    public void Finish()
    {
        if (_finished)
            return;
        _finished = true;
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
    }

    public void Dispose()
    {
        _json.Dispose();
        _file.Dispose();
    }
}
