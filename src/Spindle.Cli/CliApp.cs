namespace Spindle.Cli;

/// <summary>The `spindle` command line. Exit codes: 0 success, 1 bad usage, a missing
/// library or symbol, or an entry the runtime cannot start; 2 a deadlock or a failed
/// goroutine (as a Go program exits).</summary>
internal static class CliApp
{
    private static readonly (string Name, string Entry, string What)[] Demos =
    [
        ("gomaxprocs", "demo_gomaxprocs", "two goroutines write 0s and 1s: compare --maxprocs 1 and 2"),
        ("pingpong", "demo_pingpong", "two goroutines send a counter back and forth on channels; ns per round trip [ROUNDS]"),
        ("ring", "demo_ring", "a token passed around a ring of goroutines, a channel each; ns per hop [GOROUTINES]"),
        ("sieve", "demo_sieve", "the concurrent prime sieve: a filter goroutine per prime [PRIMES]"),
        ("park", "demo_park", "goroutines parked in a channel receive; resident bytes each [GOROUTINES]"),
        ("pipeline", "demo_pipeline_native", "native goroutines feed a managed async goroutine over one channel [NUMBERS]"),
    ];

    private const string Usage = """
        usage: spindle run LIBRARY [--entry SYMBOL] [--maxprocs N] [--stacks KIND]
               spindle demo [NAME [PARAMETER]] [--maxprocs N] [--stacks KIND]
               spindle version

          run    runs LIBRARY's entry (default spindle_main(void *)) as the main
                 goroutine, like `go run`; exit 0 when it returns, 2 on a deadlock
          demo   runs a demo from native/demos; without NAME, lists them
        GOMAXPROCS (environment) or --maxprocs sets the number of processors.
        SPINDLE_STACKS (environment) or --stacks picks native goroutine stacks:
        default (segmented for code built with -fsplit-stack, where available),
        reserved, or segmented.
        """;

    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            (args.Length == 0 ? stderr : stdout).WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }
        try
        {
            return args[0] switch
            {
                "run" => RunCommand(args[1..], stderr),
                "demo" => DemoCommand(args[1..], stdout, stderr),
                "version" => Version(stdout),
                _ => Fail(stderr, $"unknown command '{args[0]}'\n{Usage}"),
            };
        }
        catch (UsageException e)
        {
            return Fail(stderr, e.Message);
        }
    }

    private static int Version(TextWriter stdout)
    {
        stdout.WriteLine($"spindle {Runtime.NativeVersion}, stack guards: {Runtime.StackGuardMode}");
        stdout.WriteLine(Runtime.SegmentedStacksAvailable
            ? "stacks: segmented (2 KiB to start) for code built with -fsplit-stack, reserved for other code"
            : "stacks: reserved (segmented stacks need x86-64 Linux)");
        return 0;
    }

    private static int RunCommand(string[] args, TextWriter stderr)
    {
        string? library = null, entry = "spindle_main";
        int maxProcs = 0;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--entry": entry = Value(args, ref i); break;
                case "--maxprocs": maxProcs = PositiveInt(Value(args, ref i), "--maxprocs"); break;
                case "--stacks": Runtime.Stacks = StackKind(Value(args, ref i)); break;
                default:
                    if (args[i].StartsWith('-') || library is not null)
                        throw new UsageException($"unexpected argument '{args[i]}'\n{Usage}");
                    library = args[i];
                    break;
            }
        }
        if (library is null)
            throw new UsageException($"run needs a LIBRARY\n{Usage}");
        nint? fn = NativeProgram.Find(library, entry, out string? error);
        if (fn is null)
            return Fail(stderr, error!);
        if (Runtime.SegmentedStacksAvailable && Runtime.Stacks == GoroutineStacks.Default && !Runtime.IsSplitStack(fn.Value))
            stderr.WriteLine($"spindle: {Path.GetFileName(library)} was not built with -fsplit-stack " +
                             "(spindle_add_goroutine_library): its goroutines run on reserved stacks");
        return RunMain(fn.Value, 0, maxProcs, stderr);
    }

    private static int DemoCommand(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? name = null;
        long parameter = 0;
        int maxProcs = 0;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--maxprocs")
                maxProcs = PositiveInt(Value(args, ref i), "--maxprocs");
            else if (args[i] == "--stacks")
                Runtime.Stacks = StackKind(Value(args, ref i));
            else if (name is null)
                name = args[i];
            else if (long.TryParse(args[i], out long p) && p > 0)
                parameter = p;
            else
                throw new UsageException($"unexpected argument '{args[i]}'");
        }
        if (name is null)
        {
            stdout.WriteLine("demos (spindle demo NAME [PARAMETER] [--maxprocs N]):");
            foreach (var d in Demos)
                stdout.WriteLine($"  {d.Name,-12}{d.What}");
            return 0;
        }
        var demo = Demos.FirstOrDefault(d => d.Name == name);
        if (demo.Name is null)
            throw new UsageException($"no demo '{name}'; there are: {string.Join(", ", Demos.Select(d => d.Name))}");
        string library = Path.Combine(AppContext.BaseDirectory, "libspindle_demos.so");
        nint? fn = NativeProgram.Find(library, demo.Entry, out string? error);
        if (fn is null)
            return Fail(stderr, error!);
        int procs = maxProcs > 0 ? maxProcs : Runtime.DefaultMaxProcs;
        stdout.WriteLine($"spindle demo {name}, GOMAXPROCS={procs}, stacks: {Runtime.DescribeStacks(fn.Value)}");
        stdout.Flush();
        if (name == "pipeline")
        {
            PipelineDemo.Run(fn.Value, parameter > 0 ? parameter : 100_000, procs, stdout);
            return 0;
        }
        return RunMain(fn.Value, (nint)parameter, procs, stderr);
    }

    private static int RunMain(nint fn, nint arg, int maxProcs, TextWriter stderr)
    {
        try
        {
            Runtime.Run(fn, arg, maxProcs);
            return 0;
        }
        catch (DeadlockException e)
        {
            stderr.WriteLine($"fatal error: {e.Message}");
            return 2;
        }
        catch (GoroutineFailedException e)
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

    private static string Value(string[] args, ref int i) =>
        i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value");

    private static int PositiveInt(string text, string option) =>
        int.TryParse(text, out int n) && n > 0 ? n : throw new UsageException($"{option} needs a positive number, not '{text}'");

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine($"spindle: {message}");
        return 1;
    }

    private static GoroutineStacks StackKind(string text) =>
        Enum.TryParse(text, ignoreCase: true, out GoroutineStacks kind) && Enum.IsDefined(kind) && !int.TryParse(text, out _)
            ? kind
            : throw new UsageException($"--stacks needs default, reserved or segmented, not '{text}'");

    private sealed class UsageException(string message) : Exception(message);
}
