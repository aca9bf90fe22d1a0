using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Spindle.Cli.Versus;

/// <summary>`spindle versus`: the article's eight differences between goroutines and
/// threads, each measured on this machine for native and managed goroutines, OS threads,
/// .NET Tasks and Go, printed as one table (and as JSON, or an HTML page); docs/versus.md.
/// Exit codes: 0 done (targets missed are reported, not failures); 1 bad usage, a file
/// that cannot be written, or a demonstration that did not show what it claims.</summary>
internal static class VersusCommand
{
    /// <summary>The command, with its hidden helper `park-child` (each parked-memory figure
    /// is measured in a fresh process of this tool).</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr, bool stderrIsTerminal)
    {
        var quick = new Option<bool>("--quick")
        {
            Description = "Measure briefly (under 30 s on two cores): shorter runs, fewer samples, at most " +
                          VersusRunner.QuickThreads.ToString("N0", CultureInfo.InvariantCulture) + " threads",
        };
        var json = new Option<string?>("--json")
        {
            HelpName = "FILE",
            Arity = ArgumentArity.ZeroOrOne,
            Description = "Write the report as JSON: to FILE besides the table, or without FILE instead of the table",
        };
        var html = new Option<string?>("--html")
        {
            HelpName = "FILE",
            Description = "Also write the report as one self-contained HTML page, a chart per row",
        };
        var maxProcs = new Option<int>("--maxprocs")
        {
            HelpName = "N",
            Description = "Processors the rows compare against one (GOMAXPROCS, threads' CPUs, Tasks at once)",
            CustomParser = r => Positive(r, "--maxprocs", Runtime.MaxGomaxprocs),
            DefaultValueFactory = _ => 2,
        };
        var command = new Command("versus",
            "Measure the eight differences between goroutines and threads on this machine (scheduling, communication, " +
            "speed, infrastructure, stacks, latency, resource control, local storage): native and managed goroutines " +
            "against OS threads, .NET Tasks and Go (when go is on PATH); one table with the ratios and targets")
        {
            quick, json, html, maxProcs,
        };
        command.SetAction(p => Run(p.GetValue(quick), p.GetResult(json) is not null, p.GetValue(json), p.GetValue(html),
            p.GetValue(maxProcs), stdout, stderr, stderrIsTerminal));

        var kind = new Argument<string>("KIND") { Description = "native, managed, threads or tasks" };
        var count = new Argument<int>("COUNT") { Description = "Units to park" };
        var cap = new Argument<long>("CAP") { Description = "The most threads to start" };
        var procs = new Argument<int>("PROCS") { Description = "GOMAXPROCS" };
        var child = new Command("park-child", "Park COUNT units, print the resident bytes each holds as JSON (used by versus)")
        {
            Hidden = true,
        };
        child.Add(kind);
        child.Add(count);
        child.Add(cap);
        child.Add(procs);
        child.SetAction(p => ParkChild.Child(p.GetValue(kind)!, p.GetValue(count), p.GetValue(cap), p.GetValue(procs), stdout, stderr));
        command.Add(child);
        return command;
    }

    /// <summary>Refuses, before anything is measured, a file that cannot be written: empty,
    /// a folder, or in a folder that does not exist.</summary>
    private static void CheckWritable(string? file, string option)
    {
        if (file is null || (option == "--json" && file.Length == 0))
            return;
        string? folder = file.Trim().Length == 0 ? null : Path.GetDirectoryName(Path.GetFullPath(file));
        if (folder is null || Directory.Exists(file) || !Directory.Exists(folder))
            throw new CliException($"{option} needs a file in a folder that exists, not '{file}'");
    }

    private static void Save(string file, string text, string what, TextWriter stderr)
    {
        try
        {
            File.WriteAllText(file, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {file}: {e.Message}");
        }
        stderr.WriteLine($"spindle: versus: {what} is in {file}");
    }

    private static int Positive(ArgumentResult r, string name, int max)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 && n <= max)
            return n;
        r.AddError($"{name} needs a positive number of at most {max}, not '{text}'");
        return 0;
    }

    private static int Run(bool quick, bool json, string? jsonFile, string? html, int maxProcs, TextWriter stdout, TextWriter stderr,
        bool stderrIsTerminal)
    {
        CheckWritable(html, "--html");
        CheckWritable(jsonFile, "--json");
        Report report;
        using (var progress = new VersusProgress(stderr, VersusRunner.Steps, stderrIsTerminal))
            report = new VersusRunner(quick, maxProcs, progress).Run();
        if (json && string.IsNullOrEmpty(jsonFile))
            stdout.WriteLine(JsonWriter.Write(report));
        else
            TableWriter.Write(report, stdout);
        stdout.Flush();
        if (!string.IsNullOrEmpty(jsonFile))
            Save(jsonFile, JsonWriter.Write(report), "the JSON", stderr);
        if (html is not null)
            Save(html, HtmlWriter.Write(report), "the page", stderr);
        int failed = 0;
        foreach (string claim in report.FailedClaims())
        {
            stderr.WriteLine($"spindle: versus: a demonstration did not show what it claims: {claim}");
            failed++;
        }
        return failed == 0 ? 0 : 1;
    }
}
