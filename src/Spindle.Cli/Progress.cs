using System.Diagnostics;

namespace Spindle.Cli;

/// <summary>A status line on stderr while long work runs (time so far, resident memory),
/// redrawn twice a second and erased at the end; nothing at all when stderr is not a
/// terminal. The line ends with a carriage return, so output the work prints meanwhile
/// (its results) writes over it rather than after it.</summary>
internal sealed class Progress : IDisposable
{
    private const string EraseLine = "\r\u001b[K";
    private readonly string _label;
    private readonly TextWriter _stderr;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread? _drawer;
    private readonly Func<string>? _detail;

    private Progress(string label, TextWriter stderr, bool enabled, Func<string>? detail)
    {
        _label = label;
        _stderr = stderr;
        _detail = detail;
        if (!enabled)
            return;
        Draw(); // at once: the first frame does not wait for the work
        _drawer = new Thread(() =>
        {
            while (!_stop.Wait(500))
                Draw();
        }) { IsBackground = true, Name = "spindle progress" };
        _drawer.Start();
    }

    /// <summary>Shows label's progress on stderr until disposed, if enabled.</summary>
    public static Progress Start(string label, TextWriter stderr, bool enabled) => new(label, stderr, enabled, null);

    /// <summary>The same, with detail's text (how far the work is) after the time.</summary>
    public static Progress Start(string label, TextWriter stderr, bool enabled, Func<string> detail) =>
        new(label, stderr, enabled, detail);

    /// <summary>The line for the time so far and the resident memory.</summary>
    internal static string Line(string label, TimeSpan elapsed, long residentBytes) =>
        $"{label}: {elapsed.TotalSeconds:0.0} s, {residentBytes / (1024 * 1024):N0} MiB resident";

    private void Draw()
    {
        string detail = _detail is null ? "" : _detail();
        _stderr.Write($"{EraseLine}{Line(_label, _clock.Elapsed, Environment.WorkingSet)}{(detail.Length > 0 ? ", " + detail : "")}\r");
        _stderr.Flush();
    }

    /// <summary>Stops redrawing and erases the line.</summary>
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
