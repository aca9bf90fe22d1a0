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
        foreach (string demo in new[] { "gomaxprocs", "pingpong", "ring" })
            Assert.Contains(demo, output);
    }
}
