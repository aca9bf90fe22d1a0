using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Reflection;
using System.Text.Json;
using Spindle.Interop;

namespace Spindle.Cli;

/// <summary>The `spindle` command line (System.CommandLine): run a native goroutine program,
/// run the demos, say which build this is. Exit codes: 0 success; 1 bad usage, a missing
/// library or symbol, or an entry the runtime cannot start; 2 a deadlock or a failed
/// goroutine (as a Go program exits).</summary>
internal static class CliApp
{
    /// <summary>A demo of native/demos: its entry in libspindle_demos.so, what its one
    /// parameter counts, and whether it prints as it goes (then it needs no progress line).</summary>
    private sealed record Demo(string Name, string Entry, string? Parameter, string What, bool PrintsAsItGoes = false);

    private static readonly Demo[] Demos =
    [
        new("gomaxprocs", "demo_gomaxprocs", null, "two goroutines write 0s and 1s: compare --maxprocs 1 and 2"),
        new("yield", "demo_yield", "ROUNDS", "two goroutines yield to each other ROUNDS times each; ns per switch"),
        new("pingpong", "demo_pingpong", "ROUNDS", "two goroutines send a counter back and forth on channels; ns per round trip"),
        new("ring", "demo_ring", "GOROUTINES", "a token passed around a ring of goroutines, a channel each; ns per hop"),
        new("sieve", "demo_sieve", "PRIMES", "the concurrent prime sieve: a filter goroutine per prime", PrintsAsItGoes: true),
        new("park", "demo_park", "GOROUTINES", "goroutines parked in a channel receive; resident bytes each"),
        new("pipeline", "demo_pipeline_native", "NUMBERS", "native goroutines feed a managed async goroutine over one channel"),
    ];

    private const string About = """
        Spindle: goroutines for .NET and C. Runs native goroutine programs like `go run`, and the demos.

        Exit codes: 0 success; 1 bad usage, a missing library or symbol, or an entry that cannot
        start; 2 a deadlock or a failed goroutine (the message and a goroutine dump on stderr);
        3 a trace file that is missing, truncated or not a trace (trace report).
        Environment: GOMAXPROCS (processors), SPINDLE_STACKS (default, reserved or segmented),
        SPINDLE_NATIVE_PATH (another libspindle build: a file or its folder).
        """;

    /// <summary>Runs the command line args; returns the exit code.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where errors, warnings and progress go.</param>
    /// <param name="stderrIsTerminal">Whether long work may draw a progress line on stderr.</param>
    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal = false)
    {
        RootCommand root = Commands(stdout, stderr, stderrIsTerminal);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (ParseError error in parse.Errors)
                stderr.WriteLine($"spindle: {error.Message}");
            stderr.WriteLine($"Try '{CommandPath(parse.CommandResult)} --help'.");
            return 1;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is CliException or DllNotFoundException or IOException or UnauthorizedAccessException)
        {
            // A DllNotFoundException here is libspindle itself: its message says why. An
            // IOException or UnauthorizedAccessException is a file the command was given or
            // told to write (its message names it).
            stderr.WriteLine(e.Message.StartsWith("spindle: ", StringComparison.Ordinal) ? e.Message : $"spindle: {e.Message}");
            return 1;
        }
    }

    private static string CommandPath(CommandResult result) =>
        result.Parent is CommandResult parent ? $"{CommandPath(parent)} {result.Command.Name}" : "spindle";

    private static RootCommand Commands(TextWriter stdout, TextWriter stderr, bool stderrIsTerminal)
    {
        var maxProcs = new Option<int>("--maxprocs")
        {
            HelpName = "N",
            Description = "Processors running goroutines (GOMAXPROCS) [default: GOMAXPROCS, else the processor count]",
            CustomParser = r => Positive(r, "--maxprocs", int.MaxValue, out long n) ? (int)n : 0,
        };
        var stacks = new Option<GoroutineStacks?>("--stacks")
        {
            HelpName = "KIND",
            Description = "Stacks of native goroutines: default (segmented for code built with -fsplit-stack, " +
                          "where available), reserved or segmented [default: SPINDLE_STACKS, else default]",
            CustomParser = StackKind,
        };
        var json = new Option<bool>("--json") { Description = "Write the result as JSON" };

        var library = new Argument<string>("LIBRARY") { Description = "The shared library of goroutine code: a path, or a name the loader searches for" };
        var entry = new Option<string>("--entry")
        {
            HelpName = "SYMBOL",
            Description = "The main goroutine: a function void SYMBOL(void *arg) that LIBRARY exports",
            DefaultValueFactory = _ => "spindle_main",
        };
        var run = new Command("run", "Run LIBRARY's entry as the main goroutine, like `go run`: exit 0 when it returns, 2 on a deadlock")
        {
            library, entry, maxProcs, stacks,
        };
        run.SetAction(p =>
        {
            ApplyStacks(p.GetValue(stacks));
            return Run(p.GetValue(library)!, p.GetValue(entry)!, p.GetValue(maxProcs), stderr);
        });

        var demo = new Command("demo", "Run a demo of native/demos; without NAME, list them") { json };
        demo.SetAction(p => ListDemos(stdout, p.GetValue(json)));
        foreach (Demo d in Demos)
        {
            var command = new Command(d.Name, d.What) { maxProcs, stacks };
            Argument<long>? parameter = null;
            if (d.Parameter is not null)
            {
                parameter = new Argument<long>(d.Parameter)
                {
                    Description = $"How many {d.Parameter.ToLowerInvariant()} [default: the demo's own]",
                    Arity = ArgumentArity.ZeroOrOne,
                    CustomParser = r => Positive(r, d.Parameter, long.MaxValue, out long n) ? n : 0,
                };
                command.Add(parameter);
            }
            command.SetAction(p =>
            {
                ApplyStacks(p.GetValue(stacks));
                return RunDemo(d, parameter is null ? 0 : p.GetValue(parameter), p.GetValue(maxProcs), stdout, stderr, stderrIsTerminal);
            });
            demo.Add(command);
        }

        var version = new Command("version", "Say which libspindle this is, and which stacks goroutines get") { json };
        version.SetAction(p => Version(stdout, p.GetValue(json)));

        var root = new RootCommand(About) { run, demo, version };
        TraceCommands.Register(root, run, stdout, stderr, stderrIsTerminal);
        root.Add(Versus.VersusCommand.Create(stdout, stderr, stderrIsTerminal));
        root.Options.OfType<VersionOption>().Single().Action = new PrintRelease(stdout);
        root.SetAction(_ =>
        {
            stderr.WriteLine("spindle: a command is needed: run, demo or version");
            root.Parse("--help").Invoke(new InvocationConfiguration { Output = stderr });
            return 1;
        });
        return root;
    }

    /// <summary>--version: this release (the default prints the entry assembly's, which is
    /// not this one when the command runs inside another program, as in the tests).</summary>
    private sealed class PrintRelease(TextWriter stdout) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            stdout.WriteLine(typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion);
            return 0;
        }
    }

    private static void ApplyStacks(GoroutineStacks? kind)
    {
        if (kind is not null)
            Runtime.Stacks = kind.Value;
    }

    private static bool Positive(ArgumentResult r, string name, long max, out long n)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (long.TryParse(text, out n) && n > 0 && n <= max)
            return true;
        r.AddError($"{name} needs a positive number, not '{text}'");
        return false;
    }

    private static GoroutineStacks? StackKind(ArgumentResult r)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (Enum.TryParse(text, ignoreCase: true, out GoroutineStacks kind) && Enum.IsDefined(kind) && !int.TryParse(text, out _))
            return kind;
        r.AddError($"--stacks needs default, reserved or segmented, not '{text}'");
        return null;
    }

    private static int Version(TextWriter stdout, bool json)
    {
        string stacks = Runtime.SegmentedStacksAvailable
            ? "segmented (2 KiB to start) for code built with -fsplit-stack, reserved for other code"
            : "reserved (segmented stacks need x86-64 Linux)";
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                version = Runtime.NativeVersion,
                stackGuards = Runtime.StackGuardMode,
                segmentedStacks = Runtime.SegmentedStacksAvailable,
            }));
            return 0;
        }
        stdout.WriteLine($"spindle {Runtime.NativeVersion}, stack guards: {Runtime.StackGuardMode}");
        stdout.WriteLine($"stacks: {stacks}");
        return 0;
    }

    private static int ListDemos(TextWriter stdout, bool json)
    {
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(Demos.Select(d => new { name = d.Name, parameter = d.Parameter, description = d.What })));
            return 0;
        }
        stdout.WriteLine("demos (spindle demo NAME [PARAMETER] [--maxprocs N] [--stacks KIND]):");
        foreach (Demo d in Demos)
            stdout.WriteLine($"  {d.Name,-12}{d.What}{(d.Parameter is null ? "" : $" [{d.Parameter}]")}");
        return 0;
    }

    private static int Run(string library, string entry, int maxProcs, TextWriter stderr)
    {
        NativeProgram program = NativeProgram.Load(library, entry);
        string name = Path.GetFileName(library);
        if (program.FoundBySearch)
            stderr.WriteLine($"spindle: running {program.Path} (the loader's search path found '{library}')");
        if (Runtime.SegmentedStacksAvailable && Runtime.Stacks != GoroutineStacks.Reserved &&
            WhyNotSegmented(program.SplitStatus) is var (cause, fix))
        {
            if (Runtime.Stacks == GoroutineStacks.Segmented)
                throw new CliException($"{name} {cause}, so --stacks segmented cannot be honoured (SP_ENOTSPLIT); {fix}");
            stderr.WriteLine($"spindle: {name} {cause}: its goroutines run on reserved stacks; for 2 KiB segmented stacks, {fix}");
        }
        return RunMain(program.Entry, 0, maxProcs, stderr);
    }

    /// <summary>Why code of a module with this sp_split_status gets no segmented stacks, and
    /// the fix; null when it does.</summary>
    private static (string Cause, string Fix)? WhyNotSegmented(int status) => (sp_split_status)status switch
    {
        sp_split_status.SP_SPLIT_SPINDLE => null,
        sp_split_status.SP_SPLIT_FOREIGN_MORESTACK =>
            ("was built with -fsplit-stack but linked with another __morestack than Spindle's (libgcc's)",
             "link it with $(pkg-config --libs spindle-goroutine) after its sources, or build it with spindle_add_goroutine_library"),
        sp_split_status.SP_SPLIT_GNU_LD =>
            ("was built with -fsplit-stack and Spindle's __morestack but linked by GNU ld, which gives calls into libc no extra room",
             "link it with $(pkg-config --libs spindle-goroutine) (gold or lld), or build it with spindle_add_goroutine_library"),
        _ => ("was not built with -fsplit-stack",
              "build it with $(pkg-config --cflags --libs spindle-goroutine), or with spindle_add_goroutine_library"),
    };

    private static int RunDemo(Demo demo, long parameter, int maxProcs, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal)
    {
        string library = Path.Combine(AppContext.BaseDirectory, "libspindle_demos.so");
        if (!File.Exists(library))
            throw new CliException($"this spindle has no demos for {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier} " +
                                   $"({library} is missing): the demos are built for x86-64 Linux");
        NativeProgram program = NativeProgram.Load(library, demo.Entry);
        int procs = maxProcs > 0 ? maxProcs : Runtime.DefaultMaxProcs;
        stdout.WriteLine($"spindle demo {demo.Name}, GOMAXPROCS={procs}, stacks: {Runtime.DescribeStacks(program.Entry)}");
        stdout.Flush();
        using var progress = Progress.Start($"spindle demo {demo.Name}", stderr, stderrIsTerminal && !demo.PrintsAsItGoes);
        if (demo.Name == "pipeline")
        {
            PipelineDemo.Run(program.Entry, parameter > 0 ? parameter : 100_000, procs, stdout);
            return 0;
        }
        return RunMain(program.Entry, (nint)parameter, procs, stderr);
    }

    private static int RunMain(nint fn, nint arg, int maxProcs, TextWriter stderr)
    {
        try
        {
            Runtime.Run(fn, arg, maxProcs);
            return 0;
        }
        catch (Exception e) when (e is DeadlockException or GoroutineFailedException)
        {
            stderr.WriteLine($"fatal error: {e.Message}");
            return 2;
        }
        catch (SpindleException e)
        {
            stderr.WriteLine(e.Message);
            return 1;
        }
    }
}
