using Spindle.Cli;
using Xunit;

namespace Spindle.Tests;

public class CliTests
{
    private static (int Code, string Out, string Err) Spindle(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Execute(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Lib(string name) => Path.Combine(AppContext.BaseDirectory, name);

    [Fact]
    public void RunsAProgramsMainGoroutine()
    {
        var (code, _, err) = Spindle("run", Lib("libspindle_hello.so"), "--maxprocs", "2");
        Assert.Equal("", err);
        Assert.Equal(0, code);
    }

    [Fact]
    public void RunsAnotherEntry()
    {
        var (code, _, err) = Spindle("run", Lib("libspindle_hello.so"), "--entry", "spindle_main", "--maxprocs", "1");
        Assert.Equal("", err);
        Assert.Equal(0, code);
    }

    [Fact]
    public void RunSaysWhenTheCodeGetsReservedStacks()
    {
        // libspindle itself is not split-stack code; sp_gosched fits void f(void *).
        var (code, _, err) = Spindle("run", Lib("libspindle.so"), "--entry", "sp_gosched", "--maxprocs", "1");
        Assert.Equal(0, code);
        if (Runtime.SegmentedStacksAvailable)
            Assert.Equal("spindle: libspindle.so was not built with -fsplit-stack: its goroutines run on reserved stacks; " +
                         "for 2 KiB segmented stacks, build it with $(pkg-config --cflags --libs spindle-goroutine), " +
                         "or with spindle_add_goroutine_library\n", err.ReplaceLineEndings("\n"));
        else
            Assert.Equal("", err);
    }

    [Fact]
    public void SegmentedStacksForCodeWithoutThemIsAClearError()
    {
        GoroutineStacks? before = Runtime.StacksSetting;
        try
        {
            var (code, _, err) = Spindle("run", Lib("libspindle.so"), "--entry", "sp_gosched", "--stacks", "segmented");
            Assert.Equal(1, code);
            Assert.Contains(Runtime.SegmentedStacksAvailable ? "SP_ENOTSPLIT" : "SP_ENOTSUP", err);
            (code, _, err) = Spindle("run", Lib("libspindle_hello.so"), "--stacks", "sideways");
            Assert.Equal(1, code);
            Assert.Contains("--stacks needs default, reserved or segmented", err);
        }
        finally
        {
            Runtime.StacksSetting = before;
        }
    }

    [Fact]
    public void DeadlockExitsWithTwoAndTheDump()
    {
        var (code, _, err) = Spindle("run", Lib("libspindle_testprogs.so"), "--entry", "tp_wait_forever");
        Assert.Equal(2, code);
        Assert.Contains("all goroutines are asleep - deadlock!", err);
        Assert.Contains("goroutine 1 [sync.WaitGroup.Wait", err);
    }

    [Fact]
    public void MissingLibraryOrSymbolSaysSo()
    {
        var (code, _, err) = Spindle("run", Lib("no-such-library.so"));
        Assert.Equal(1, code);
        Assert.Contains("cannot load library", err);

        (code, _, err) = Spindle("run", Lib("libspindle_hello.so"), "--entry", "no_such_symbol");
        Assert.Equal(1, code);
        Assert.Contains("has no symbol 'no_such_symbol'", err);
    }

    [Fact]
    public void BadUsageIsExplained()
    {
        // Each a parse error: exit 1, nothing on stdout, the error and where to look next.
        foreach (var (args, error, next) in new[]
        {
            (new[] { "frobnicate" }, "Unrecognized command or argument 'frobnicate'.", "spindle"),
            (new[] { "run" }, "Required argument 'LIBRARY' missing for command: 'run'.", "spindle run"),
            (new[] { "run", "x.so", "--maxprocs", "0" }, "--maxprocs needs a positive number, not '0'", "spindle run"),
            (new[] { "run", "x.so", "--maxprocs", "two" }, "--maxprocs needs a positive number, not 'two'", "spindle run"),
            (new[] { "run", "x.so", "--entry" }, "Required argument missing for option: '--entry'.", "spindle run"),
            (new[] { "run", "x.so", "--bogus" }, "Unrecognized command or argument '--bogus'.", "spindle run"),
            (new[] { "demo", "nope" }, "Unrecognized command or argument 'nope'.", "spindle demo"),
            (new[] { "demo", "park", "many" }, "GOROUTINES needs a positive number, not 'many'", "spindle demo park"),
            (new[] { "version", "--json", "extra" }, "Unrecognized command or argument 'extra'.", "spindle version"),
        })
        {
            var (code, output, err) = Spindle(args);
            Assert.Equal(1, code);
            Assert.Equal("", output);
            Assert.Equal($"spindle: {error}\nTry '{next} --help'.\n", err.ReplaceLineEndings("\n"));
        }
    }

    [Fact]
    public void NoCommandIsAnErrorWithTheHelp()
    {
        var (code, output, err) = Spindle();
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("spindle: a command is needed: run, demo or version", err);
        Assert.Contains("Usage:", err);
    }

    [Theory]
    [InlineData("", "--version")]
    [InlineData("run", "--entry <SYMBOL>")]
    [InlineData("demo", "park")]
    [InlineData("demo park", "<GOROUTINES>")]
    [InlineData("version", "--json")]
    public void EveryCommandHasHelp(string command, string expected)
    {
        string[] args = [.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"];
        var (code, output, err) = Spindle(args);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        // The usage line names the program as it was started (the test host here).
        Assert.Matches($@"Usage:\s+\S+ {command}".TrimEnd(), output);
        Assert.Contains(expected, output);
    }

    [Fact]
    public void RootHelpDocumentsTheExitCodes()
    {
        string help = Spindle("--help").Out.ReplaceLineEndings(" ");
        Assert.Matches(@"Exit codes: 0 success; 1 bad usage, a missing library or symbol, or an entry that cannot\s+start; 2 a deadlock or a failed goroutine", help);
    }

    [Fact]
    public void VersionOptionPrintsTheRelease()
    {
        var (code, output, err) = Spindle("--version");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Equal(Interop.SpindleLibrary.ExpectedVersion, output.Trim());
        Assert.Equal(Runtime.NativeVersion, output.Trim());
    }

    [Fact]
    public void DataCommandsWriteJson()
    {
        var (code, output, _) = Spindle("version", "--json");
        Assert.Equal(0, code);
        using (var doc = System.Text.Json.JsonDocument.Parse(output))
        {
            Assert.Equal(Runtime.NativeVersion, doc.RootElement.GetProperty("version").GetString());
            Assert.Equal(Runtime.StackGuardMode, doc.RootElement.GetProperty("stackGuards").GetString());
            Assert.Equal(Runtime.SegmentedStacksAvailable, doc.RootElement.GetProperty("segmentedStacks").GetBoolean());
        }
        (code, output, _) = Spindle("demo", "--json");
        Assert.Equal(0, code);
        using (var doc = System.Text.Json.JsonDocument.Parse(output))
        {
            string[] names = [.. doc.RootElement.EnumerateArray().Select(d => d.GetProperty("name").GetString()!)];
            Assert.Equal(["gomaxprocs", "yield", "pingpong", "ring", "sieve", "park", "pipeline"], names);
            Assert.Equal("GOROUTINES", doc.RootElement[5].GetProperty("parameter").GetString());
        }
    }

    [Fact]
    public void ProgressDrawsOnlyWhenEnabledAndErasesItsLine()
    {
        Assert.Equal("park: 2.5 s, 3 MiB resident", Progress.Line("park", TimeSpan.FromSeconds(2.5), 3L << 20));
        var terminal = new StringWriter();
        using (Progress.Start("spindle demo park", terminal, enabled: true)) { }
        string drawn = terminal.ToString();
        Assert.StartsWith("\r\u001b[Kspindle demo park: ", drawn);
        Assert.Contains(" MiB resident\r", drawn);
        Assert.EndsWith("\r\u001b[K", drawn);
        var redirected = new StringWriter();
        using (Progress.Start("spindle demo park", redirected, enabled: false)) { }
        Assert.Equal("", redirected.ToString());
    }

    [Fact]
    public void ListsTheDemos()
    {
        var (code, output, _) = Spindle("demo");
        Assert.Equal(0, code);
        foreach (string demo in new[] { "gomaxprocs", "pingpong", "ring", "sieve", "pipeline" })
            Assert.Contains(demo, output);
    }

    /// <summary>The demos print from native code, so they run as a child process.</summary>
    private static (int Code, string Out, string Err) SpindleProcess(params string[] args) =>
        SpindleProcessIn(null, null, args);

    private static (int Code, string Out, string Err) SpindleProcessIn(string? directory,
        IDictionary<string, string>? environment, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory ?? "",
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        start.ArgumentList.Add(Lib("spindle.dll"));
        foreach (string a in args)
            start.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(start)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public void YieldDemoMakesTwoSwitchesARound(string maxProcs)
    {
        var (code, output, err) = SpindleProcess("demo", "yield", "1000", "--maxprocs", maxProcs);
        Assert.True(code == 0, err);
        Assert.Matches(@"\n2000 switches in [0-9.]+ ms: [0-9.]+ ns per switch\n", output);
    }

    [Fact]
    public void AnotherLibspindleNamedBySpindleNativePathIsTheOnlyOneLoaded()
    {
        // A copy of the build's libspindle elsewhere: the scheduler's bindings, the
        // public ones and the demo program must all bind that one copy (the scheduler's
        // bindings used to load the application's own, and the demo's goroutines then
        // ran against a library with no runtime in it: no round trip was made).
        string dir = Path.Combine(Path.GetTempPath(), "spindle-native-path-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        try
        {
            string copy = Path.Combine(dir, "libspindle.so");
            File.Copy(Lib("libspindle.so"), copy);
            var (code, output, err) = SpindleProcessIn(null,
                new Dictionary<string, string> { ["SPINDLE_NATIVE_PATH"] = dir, ["LD_DEBUG"] = "files" },
                "demo", "pingpong", "1000", "--maxprocs", "1");
            Assert.True(code == 0, err);
            Assert.Contains("counter now 1000)", output);
            var loaded = err.Split('\n').Where(l => l.Contains("file=") && l.Contains("libspindle.so ")).ToList();
            Assert.Contains(loaded, l => l.Contains($"file={copy} "));
            Assert.DoesNotContain(loaded, l => !l.Contains($"file={copy} "));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public void SieveDemoPrintsTheFirstThousandPrimes(string maxProcs)
    {
        var (code, output, err) = SpindleProcess("demo", "sieve", "1000", "--maxprocs", maxProcs);
        Assert.True(code == 0, err);
        long[] printed = output.Split('\n').Skip(1) // the banner
            .SelectMany(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(long.Parse).ToArray();
        var primes = new List<long>();
        for (long n = 2; primes.Count < 1000; n++)
            if (primes.TakeWhile(q => q * q <= n).All(q => n % q != 0))
                primes.Add(n);
        Assert.Equal(primes, printed);
        Assert.Contains("1000 primes through 1000 filter goroutines", err);
    }

    [Fact]
    public void PipelineDemoJoinsNativeAndManagedGoroutines()
    {
        var (code, output, err) = SpindleProcess("demo", "pipeline", "20000", "--maxprocs", "2");
        Assert.True(code == 0, err);
        Assert.Contains("received 20000 squares, sum 2666866670000 (correct)", output);
    }

    [Fact]
    public void RunSaysWhichFileTheLoaderFoundForABareName()
    {
        string elsewhere = Directory.CreateTempSubdirectory("spindle-cli-").FullName;
        try
        {
            var (code, output, err) = SpindleProcessIn(elsewhere,
                new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = AppContext.BaseDirectory.TrimEnd('/') },
                "run", "libspindle_hello.so", "--maxprocs", "1");
            Assert.True(code == 0, err);
            Assert.Contains($"spindle: running {Lib("libspindle_hello.so")} (the loader's search path found 'libspindle_hello.so')", err);
            Assert.Contains("all goroutines done", output);
            // A path is loaded as it is, without that line.
            (code, _, err) = SpindleProcessIn(elsewhere, null, "run", Lib("libspindle_hello.so"), "--maxprocs", "1");
            Assert.True(code == 0, err);
            Assert.DoesNotContain("search path", err);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }
}
