using System.Diagnostics;
using Microsoft.Diagnostics.Tracing;
using Spindle.Cli;

namespace Spindle.Tests;

/// <summary>What the tracing tests share: the spindle command run in-process, the
/// repository's folders, the tools ./build.sh installs, and reading a trace's switch records
/// back with TraceEvent.</summary>
internal static class TraceTestSupport
{
    public static (int Code, string Out, string Err) RunCli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Execute(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The repository: the folder above the test's output that holds build.sh.</summary>
    public static string Root
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "build.sh")))
                    return d.FullName;
            throw new InvalidOperationException("the tests run outside the repository: no build.sh above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Where test artifacts are kept (a screenshot of the HTML report): build/test-artifacts.</summary>
    public static string Artifacts
    {
        get
        {
            string dir = Path.Combine(Root, "build", "test-artifacts");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>A fresh folder for one test's files.</summary>
    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "spindle-trace-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A tool ./build.sh installs (dotnet-trace, dotnet-counters) into build/tools.</summary>
    public static string Tool(string name)
    {
        string path = Path.Combine(Root, "build", "tools", name);
        if (!File.Exists(path))
            throw new InvalidOperationException($"{path} is missing: ./build.sh test installs {name} (dotnet tool install --tool-path build/tools)");
        return path;
    }

    /// <summary>Runs a program to its end (at most timeout); returns its exit code and output.</summary>
    public static (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, TimeSpan timeout,
        IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in args)
            start.ArgumentList.Add(a);
        if (environment is not null)
            foreach ((string k, string v) in environment)
                start.Environment[k] = v;
        using Process p = Process.Start(start)!;
        p.StandardInput.Close();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(file)} {string.Join(' ', args)} did not end within {timeout}");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The spindle command as a process of its own: dotnet and spindle.dll, which the
    /// tests' output holds (Spindle.Cli is a reference).</summary>
    public static (string File, string[] Args) SpindleProcess(params string[] args) =>
        (DotnetHost, [Path.Combine(AppContext.BaseDirectory, "spindle.dll"), .. args]);

    public static string DotnetHost => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet"
        ? p
        : "dotnet";

    /// <summary>Runs body inside an EventPipe session of this process with providers,
    /// written to output; the switch trace's last batches are flushed before it ends.</summary>
    public static void Session(Stream output, Microsoft.Diagnostics.NETCore.Client.EventPipeProvider[] providers, Action body)
    {
        var client = new Microsoft.Diagnostics.NETCore.Client.DiagnosticsClient(Environment.ProcessId);
        using var session = client.StartEventPipeSession(providers, requestRundown: false, circularBufferMB: 256);
        Task copy = session.EventStream.CopyToAsync(output);
        try
        {
            body();
            SwitchTrace.Flush();
        }
        finally
        {
            session.Stop();
            copy.Wait();
        }
    }

    /// <summary>One switch trace batch as the file holds it.</summary>
    public sealed record Batch(long Sequence, int Thread, long DroppedBefore, long TicksPerSecond, SwitchTraceRecord[] Records);

    /// <summary>Every SwitchBatch event of a .nettrace file, its records decoded.</summary>
    public static List<Batch> ReadBatches(string path)
    {
        var batches = new List<Batch>();
        using var source = new EventPipeEventSource(path);
        source.Dynamic.All += e =>
        {
            if (e.ProviderName != "Spindle-Runtime" || (int)e.ID != RuntimeEventIds.SwitchBatch)
                return;
            int count = Convert.ToInt32(e.PayloadByName("count"));
            SwitchTraceRecord[] records = SwitchTraceFormat.DecodeRecords((string)e.PayloadByName("records"), count,
                    Convert.ToUInt64(e.PayloadByName("originTicks")))
                ?? throw new InvalidDataException("a batch's records do not decode");
            batches.Add(new Batch(Convert.ToInt64(e.PayloadByName("sequence")), Convert.ToInt32(e.PayloadByName("thread")),
                Convert.ToInt64(e.PayloadByName("droppedBefore")), Convert.ToInt64(e.PayloadByName("ticksPerSecond")), records));
        };
        source.Process();
        return batches;
    }

    /// <summary>Records the file's traces dropped in all: each SwitchTraceStopped event's count
    /// (a recording holds one trace per flush), added up.</summary>
    public static long ReadStoppedDrops(string path)
    {
        long dropped = 0;
        using var source = new EventPipeEventSource(path);
        source.Dynamic.All += e =>
        {
            if (e.ProviderName == "Spindle-Runtime" && (int)e.ID == RuntimeEventIds.SwitchTraceStopped)
                dropped += Convert.ToInt64(e.PayloadByName("dropped"));
        };
        source.Process();
        return dropped;
    }
}
