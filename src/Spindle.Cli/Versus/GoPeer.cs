using System.Diagnostics;
using System.Text.Json;

namespace Spindle.Cli.Versus;

/// <summary>The Go peer: the same programs in Go (Versus/go/versus.go, carried inside this
/// tool as a resource, so that a spindle installed from its package needs no repository),
/// built with the go toolchain on PATH in a temporary folder and run as a child process.</summary>
internal sealed class GoPeer : IDisposable
{
    private readonly string _folder;
    private readonly string _binary;

    private GoPeer(string folder, string binary, string version)
    {
        _folder = folder;
        _binary = binary;
        Version = version;
    }

    /// <summary>The go toolchain's version ("go1.19.8").</summary>
    public string Version { get; }

    /// <summary>Builds the Go program; null and why when there is no go toolchain on PATH
    /// or it cannot build it.</summary>
    public static GoPeer? Build(out string? why)
    {
        string? go = FindOnPath("go");
        if (go is null)
        {
            why = "no go toolchain on PATH (Go 1.19 or later: e.g. apt-get install golang-go)";
            return null;
        }
        string folder = Directory.CreateTempSubdirectory("spindle-versus-go-").FullName;
        try
        {
            foreach (string name in new[] { "versus.go", "go.mod" })
            {
                using Stream resource = typeof(GoPeer).Assembly.GetManifestResourceStream($"Spindle.Cli.Versus.go.{name}")
                    ?? throw new InvalidOperationException($"spindle versus: this build of spindle lacks its Go program ({name})");
                using FileStream file = File.Create(Path.Combine(folder, name));
                resource.CopyTo(file);
            }
            string binary = Path.Combine(folder, "versus-go");
            var (code, _, err) = Execute(go, folder, TimeSpan.FromMinutes(3), "build", "-o", binary, ".");
            if (code != 0)
            {
                why = $"go build failed ({FirstLine(err)})";
                Directory.Delete(folder, recursive: true);
                return null;
            }
            var (_, version, _) = Execute(go, folder, TimeSpan.FromSeconds(30), "env", "GOVERSION");
            why = null;
            return new GoPeer(folder, binary, version.Trim().Length > 0 ? version.Trim() : "go");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            why = $"the Go program could not be built: {e.Message}";
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
            return null;
        }
    }

    /// <summary>Runs the Go program with args; its JSON object, or null and why.</summary>
    public JsonElement? Run(TimeSpan timeout, out string? why, params string[] args)
    {
        try
        {
            var (code, output, err) = Execute(_binary, _folder, timeout, args);
            if (code != 0)
            {
                why = $"the Go program failed (exit {code}: {FirstLine(err)})";
                return null;
            }
            why = null;
            using JsonDocument doc = JsonDocument.Parse(output);
            return doc.RootElement.Clone();
        }
        catch (Exception e) when (e is JsonException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            why = $"the Go program gave no figures: {e.Message}";
            return null;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string FirstLine(string text)
    {
        string line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";
        return line.Length > 200 ? line[..200] + "..." : line;
    }

    /// <summary>Runs program in folder; its exit code, stdout and stderr.</summary>
    /// <exception cref="TimeoutException">It ran longer than timeout (it is killed).</exception>
    internal static (int Code, string Out, string Err) Execute(string program, string folder, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
            start.ArgumentList.Add(a);
        // Never fetch anything: the program has no dependencies, and a newer go must not
        // download another toolchain for it.
        start.Environment["GOFLAGS"] = "-mod=mod";
        start.Environment["GOTOOLCHAIN"] = "local";
        start.Environment["GOPROXY"] = "off";
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("HOME")) &&
            string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GOCACHE")))
            start.Environment["GOCACHE"] = Path.Combine(folder, ".cache");
        using Process p = Process.Start(start)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} ran longer than {timeout.TotalSeconds:0} s");
        }
        p.WaitForExit();
        return (p.ExitCode, output.Result, err.Result);
    }

    /// <summary>The file name resolves to on PATH, or null.</summary>
    internal static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? name + ".exe" : name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
