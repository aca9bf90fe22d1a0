using System.CommandLine;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Spindle.Cli.Tracing;

namespace Spindle.Cli;

/// <summary>`spindle trace record`, `spindle trace report` and `spindle run --trace`: a
/// recording is an EventPipe session of this process (DiagnosticsClient) that enables the
/// Spindle-Runtime EventSource, switch trace included, around a run or a demo; a report
/// reads any .nettrace file with TraceEvent (one from dotnet-trace too).</summary>
internal static class TraceCommands
{
    /// <summary>The exit code for a trace file that cannot be read: missing, truncated, or
    /// not a trace.</summary>
    public const int UnreadableTrace = 3;

    /// <summary>Every keyword of the Spindle-Runtime EventSource.</summary>
    private const long AllKeywords = 0x3f;

    /// <summary>Adds `trace` to root and --trace to run.</summary>
    public static void Register(RootCommand root, Command run, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal)
    {
        var bufferMb = new Option<int>("--buffer-mb")
        {
            HelpName = "MB",
            Description = $"Memory for switch records waiting to be written [default: {SwitchTrace.DefaultBufferMegabytes}]",
            DefaultValueFactory = _ => SwitchTrace.DefaultBufferMegabytes,
        };

        // spindle run --trace FILE: the run, recorded.
        var runTrace = new Option<string?>("--trace")
        {
            HelpName = "FILE",
            Description = "Record a trace of the run to FILE (.nettrace; read it with `spindle trace report`)",
        };
        // spindle run --flight-recorder FILE: the last switches kept, written on a deadlock or a failure.
        var runFlight = new Option<string?>("--flight-recorder")
        {
            HelpName = "FILE",
            Description = "Keep the last 16 MB of the switch trace in memory and write them to FILE (.nettrace) on a deadlock or a failed goroutine",
        };
        run.Add(runTrace);
        run.Add(runFlight);
        run.Add(bufferMb);
        var runAction = (System.CommandLine.Invocation.SynchronousCommandLineAction)run.Action!;
        run.SetAction(p =>
        {
            if (p.GetValue(runTrace) is string file)
                return Record(file, p.GetValue(bufferMb), stdout, stderr, stderrIsTerminal, () => runAction.Invoke(p));
            if (p.GetValue(runFlight) is string flight)
                return WithFlightRecorder(flight, stderr, () => runAction.Invoke(p));
            return runAction.Invoke(p);
        });

        var output = new Option<string>("--out", "-o")
        {
            HelpName = "FILE",
            Description = "Where the trace goes [default: spindle.nettrace]",
            DefaultValueFactory = _ => "spindle.nettrace",
        };
        var command = new Argument<string[]>("COMMAND")
        {
            Description = "After --: the spindle command to record (run LIBRARY ... or demo NAME ...)",
            Arity = ArgumentArity.OneOrMore,
        };
        var record = new Command("record", "Record a trace (an EventPipe session of the Spindle-Runtime provider, switch trace included) " +
                                           "of a spindle command: spindle trace record [--out FILE] -- run LIBRARY | demo NAME ...")
        {
            output, bufferMb, command,
        };
        record.SetAction(p =>
        {
            string[] inner = p.GetValue(command)!;
            if (inner.Length == 0 || inner[0] is not ("run" or "demo"))
            {
                stderr.WriteLine("spindle: trace record records `run ...` or `demo ...`, after --");
                return 1;
            }
            return Record(p.GetValue(output)!, p.GetValue(bufferMb), stdout, stderr, stderrIsTerminal,
                () => CliApp.Execute(inner, stdout, stderr, stderrIsTerminal: false));
        });

        var file = new Argument<string>("FILE") { Description = "A .nettrace file (spindle trace record, spindle run --trace, dotnet-trace collect)" };
        var html = new Option<string?>("--html") { HelpName = "OUT.html", Description = "Also write the report as one self-contained HTML page" };
        var perfetto = new Option<string?>("--perfetto")
        {
            HelpName = "OUT.json",
            Description = "Also write a timeline in Chrome trace-event JSON, for ui.perfetto.dev",
        };
        var perfettoLimit = new Option<long>("--perfetto-limit")
        {
            HelpName = "N",
            Description = "The most goroutine runs the timeline holds [default: 1000000]",
            DefaultValueFactory = _ => 1_000_000,
        };
        var report = new Command("report", "Report what a trace shows: switch costs and their parts, scheduling latency, " +
                                           $"workers' time, goroutines' states, channels, waits, drops. Exit {UnreadableTrace}: " +
                                           "the file is missing, truncated or not a trace")
        {
            file, html, perfetto, perfettoLimit,
        };
        report.SetAction(p => Report(p.GetValue(file)!, p.GetValue(html), p.GetValue(perfetto), p.GetValue(perfettoLimit),
            stdout, stderr, stderrIsTerminal));

        root.Add(new Command("trace", "Record and read traces of goroutine switches and scheduling") { record, report });
    }

    /// <summary>Runs body inside an EventPipe session of this process that writes to path.</summary>
    internal static int Record(string path, int bufferMb, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal, Func<int> body)
    {
        if (!SwitchTrace.Available)
            stderr.WriteLine("spindle: this libspindle was built with the switch tracer compiled out: the trace has no switches");
        var provider = new EventPipeProvider("Spindle-Runtime", EventLevel.Verbose, AllKeywords,
            new Dictionary<string, string> { ["BufferMB"] = bufferMb.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var client = new DiagnosticsClient(Environment.ProcessId);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write the trace to {path}: {e.Message}");
        }
        int code;
        using (file)
        {
            // The session's own buffer: what EventPipe holds while the file falls behind.
            using EventPipeSession session = client.StartEventPipeSession([provider], requestRundown: false, circularBufferMB: 512);
            Task copy = session.EventStream.CopyToAsync(file);
            using (Progress.Start("spindle trace record", stderr, stderrIsTerminal, () => $"{file.Length / (1 << 20):N0} MiB of trace"))
            {
                try
                {
                    code = body();
                }
                finally
                {
                    SwitchTrace.Flush(); // while the session is there to receive the last batches
                    session.Stop();
                    copy.Wait();
                }
            }
        }
        SwitchTraceStats stats = SwitchTrace.Stats;
        stderr.WriteLine($"spindle: trace written to {path} ({new FileInfo(path).Length / 1024.0 / 1024.0:0.0} MiB: " +
                         $"{stats.Records:N0} records, {stats.Dropped:N0} dropped); read it with `spindle trace report {path}`");
        return code;
    }

    /// <summary>Runs body with the flight recorder on; a deadlock or a failure writes it to path.</summary>
    internal static int WithFlightRecorder(string path, TextWriter stderr, Func<int> body)
    {
        if (!SwitchTrace.Available)
            throw new CliException("this libspindle was built with the switch tracer compiled out: no flight recorder");
        SwitchTrace.StartFlightRecorder(16, reason =>
        {
            int batches = FlightRecorderFile.Write(path, reason);
            stderr.WriteLine($"spindle: the flight recorder's last {batches:N0} batches ({reason}) written to {path}");
        });
        try
        {
            return body();
        }
        finally
        {
            SwitchTrace.StopFlightRecorder();
        }
    }

    private static int Report(string path, string? html, string? perfetto, long perfettoLimit, TextWriter stdout,
        TextWriter stderr, bool stderrIsTerminal)
    {
        if (!File.Exists(path))
        {
            stderr.WriteLine($"spindle: {path}: no such file");
            return UnreadableTrace;
        }
        TraceAnalysis analysis;
        PerfettoWriter? timeline = null;
        try
        {
            using FileStream input = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20);
            timeline = perfetto is null ? null : new PerfettoWriter(perfetto, perfettoLimit);
            using (Progress.Start($"spindle trace report {Path.GetFileName(path)}", stderr, stderrIsTerminal,
                       () => input.Length == 0 ? "" : $"{100.0 * input.Position / input.Length:0}% read"))
                analysis = TraceReader.Read(input, timeline);
            timeline?.Finish();
        }
        catch (TraceFormatException e)
        {
            stderr.WriteLine($"spindle: {path}: {e.Message}");
            return UnreadableTrace;
        }
        finally
        {
            timeline?.Dispose();
        }
        analysis.WriteText(stdout);
        if (timeline is not null)
            stdout.WriteLine($"perfetto: {perfetto} ({timeline.Slices:N0} goroutine runs{(timeline.Truncated ? $", the first {perfettoLimit:N0}" : "")}): open it in ui.perfetto.dev");
        if (html is not null)
        {
            HtmlReport.Write(html, analysis, Path.GetFileName(path));
            stdout.WriteLine($"html: {html}");
        }
        return 0;
    }
}
