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
            Assert.Contains("was not built with -fsplit-stack", err);
        else
            Assert.Equal("", err);
    }

    [Fact]
    public void SegmentedStacksForCodeWithoutThemIsAClearError()
    {
        GoroutineStacks before = Runtime.Stacks;
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
            Runtime.Stacks = before;
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
        Assert.Equal(1, Spindle().Code);
        Assert.Contains("unknown command", Spindle("frobnicate").Err);
        Assert.Contains("run needs a LIBRARY", Spindle("run").Err);
        Assert.Contains("--maxprocs needs a positive number", Spindle("run", "x.so", "--maxprocs", "0").Err);
        Assert.Contains("--entry needs a value", Spindle("run", "x.so", "--entry").Err);
        Assert.Contains("no demo 'nope'", Spindle("demo", "nope").Err);
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
    private static (int Code, string Out, string Err) SpindleProcess(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
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
}
