using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace Spindle.Cli.Tracing;

/// <summary>Writes what the flight recorder holds to a .nettrace file: an EventPipe session
/// of this process, to the file, that asks for the Switch keyword with Dump=1 (so that it
/// starts no streaming trace), around <see cref="SwitchTrace.WriteFlightRecorder"/>.</summary>
internal static class FlightRecorderFile
{
    /// <summary>The Switch keyword of the Spindle-Runtime EventSource.</summary>
    private const long SwitchKeyword = 0x20;

    /// <summary>Writes the flight recorder's batches to path with reason; returns how many.</summary>
    public static int Write(string path, string reason)
    {
        var provider = new EventPipeProvider(TraceReader.Provider, EventLevel.Verbose, SwitchKeyword,
            new Dictionary<string, string> { ["Dump"] = "1" });
        var client = new DiagnosticsClient(Environment.ProcessId);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        using EventPipeSession session = client.StartEventPipeSession([provider], requestRundown: false, circularBufferMB: 256);
        Task copy = session.EventStream.CopyToAsync(file);
        int batches;
        try
        {
            batches = SwitchTrace.WriteFlightRecorder(reason);
        }
        finally
        {
            session.Stop();
            copy.Wait();
        }
        return batches;
    }
}
