using System.Diagnostics;

namespace Spindle.Cli.Versus;

/// <summary>The progress of `spindle versus` on stderr: a bar of the measurements done of
/// all and the one running, after <see cref="Progress"/>'s time and memory (which draws
/// it, and draws nothing when stderr is not a terminal). It also keeps the time each
/// measurement took, for the report.</summary>
internal sealed class VersusProgress : IDisposable
{
    private const int BarWidth = 24;
    private readonly int _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private readonly Progress _line;
    private int _done;
    private string _what = "starting";
    private TimeSpan _stepStarted;

    /// <summary>Each measurement and the time it took, in order.</summary>
    public List<(string What, TimeSpan Took)> Took { get; } = [];

    public VersusProgress(TextWriter stderr, int total, bool enabled)
    {
        _total = Math.Max(1, total);
        _line = Progress.Start("spindle versus", stderr, enabled, Detail);
    }

    /// <summary>The next measurement begins (the one before is done).</summary>
    public void Step(string what)
    {
        lock (_lock)
        {
            Finish();
            _what = what;
        }
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

    /// <summary>The bar for done of total and what runs.</summary>
    internal static string Bar(int done, int total, string what)
    {
        int filled = (int)Math.Round((double)BarWidth * done / Math.Max(1, total));
        string bar = $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] {done}/{total}: {what}";
        return bar.Length > 80 ? bar[..80] : bar;
    }

    private string Detail()
    {
        lock (_lock)
            return Bar(_done, _total, _what);
    }

    public void Dispose() => _line.Dispose();
}
