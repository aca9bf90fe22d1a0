using Microsoft.Diagnostics.Tracing;

namespace Spindle.Cli.Tracing;

/// <summary>A trace file that cannot be read: truncated, damaged, or not a trace of a
/// Spindle program.</summary>
internal sealed class TraceFormatException(string message) : Exception(message);

/// <summary>Reads a .nettrace file with TraceEvent, one event at a time (the file is never
/// held in memory), into a <see cref="TraceAnalysis"/>.</summary>
internal static class TraceReader
{
    public const string Provider = "Spindle-Runtime";

    /// <summary>How every .nettrace file begins: "Nettrace", then the serializer's name.</summary>
    private static ReadOnlySpan<byte> Magic => "Nettrace\u0014\0\0\0!FastSerialization.1"u8;

    public static TraceAnalysis Read(Stream input, PerfettoWriter? timeline)
    {
        if (input.CanSeek)
        {
            Span<byte> head = stackalloc byte[Magic.Length];
            int got = input.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            input.Position = 0;
            if (got < head.Length || !head.SequenceEqual(Magic))
                throw new TraceFormatException(got == 0 ? "empty: not a .nettrace file" : "not a .nettrace file (it does not begin as one)");
        }
        EventPipeEventSource source;
        try
        {
            source = new EventPipeEventSource(input);
        }
        catch (Exception e)
        {
            throw new TraceFormatException($"not a .nettrace file ({Reason(e)})");
        }
        var analysis = new TraceAnalysis(timeline);
        using (source)
        {
            source.Dynamic.All += e =>
            {
                if (e.ProviderName == Provider)
                    analysis.OnEvent(e);
            };
            try
            {
                source.Process();
            }
            catch (TraceFormatException)
            {
                throw;
            }
            catch (Exception e)
            {
                throw new TraceFormatException($"the file ends early or is damaged: truncated? ({Reason(e)})");
            }
            analysis.EventPipeEventsLost = source.EventsLost;
        }
        if (input.CanSeek && input.Position < input.Length)
            throw new TraceFormatException("the file goes on past the end of its trace: damaged");
        if (!analysis.SawProvider)
            throw new TraceFormatException($"no {Provider} events: not a trace of a Spindle program " +
                                           "(record one with `spindle trace record`, or dotnet-trace collect --providers Spindle-Runtime)");
        analysis.Finish();
        return analysis;
    }

    private static string Reason(Exception e) => $"{e.GetType().Name}: {e.Message}".TrimEnd('.');
}
