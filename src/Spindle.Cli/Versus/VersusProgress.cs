using System.Diagnostics;

namespace Spindle.Cli.Versus;

/// <summary>The progress bar of `spindle versus` on stderr: the measurements done of all,
/// the one running, the time so far; redrawn at each step and twice a second, erased at
/// the end. Nothing at all when stderr is not a terminal (as <see cref="Progress"/>).</summary>
internal sealed class VersusProgress : IDisposable
{
    private const string EraseLine = "\r\u001b[K";
    private const int BarWidth = 24;
    private readonly TextWriter _stderr;
    private readonly int _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread? _drawer;
    private readonly Lock _lock = new();
    private int _done;
    private string _what = "starting";
    private TimeSpan _stepStarted;

    /// <summary>Each measurement and the time it took, in order.</summary>
    public List<(string What, TimeSpan Took)> Took { get; } = [];

    public VersusProgress(TextWriter stderr, int total, bool enabled)
    {
        _stderr = stderr;
        _total = Math.Max(1, total);
        if (!enabled)
            return;
        Draw();
        _drawer = new Thread(() =>
        {
            while (!_stop.Wait(500))
                Draw();
        }) { IsBackground = true, Name = "spindle versus progress" };
        _drawer.Start();
    }

    /// <summary>The next measurement begins (the one before is done).</summary>
    public void Step(string what)
    {
        lock (_lock)
        {
            Finish();
            _what = what;
        }
        if (_drawer is not null)
            Draw();
    }

    /// <summary>The measurement running is done.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            TimeSpan now = _clock.Elapsed;
            if (_what != "starting" && _what != "done")
            {
                _done = Math.Min(_total, _done + 1);
                Took.Add((_what, now - _stepStarted));
            }
            _what = "done";
            _stepStarted = now;
        }
    }

    /// <summary>The bar for done of total, what runs, and the time so far.</summary>
    internal static string Line(int done, int total, string what, TimeSpan elapsed)
    {
        int filled = (int)Math.Round((double)BarWidth * done / Math.Max(1, total));
        return $"spindle versus [{new string('#', filled)}{new string('.', BarWidth - filled)}] {done}/{total} " +
               $"{elapsed.TotalSeconds:0} s: {what}";
    }

    private void Draw()
    {
        string line;
        lock (_lock)
            line = Line(_done, _total, _what, _clock.Elapsed);
        if (line.Length > 110)
            line = line[..110];
        lock (_stderr)
        {
            _stderr.Write($"{EraseLine}{line}\r");
            _stderr.Flush();
        }
    }

    public void Dispose()
    {
        if (_drawer is null)
            return;
        _stop.Set();
        _drawer.Join();
        _stderr.Write(EraseLine);
        _stderr.Flush();
    }
}
