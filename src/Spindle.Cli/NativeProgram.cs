using System.Globalization;
using System.Runtime.InteropServices;

namespace Spindle.Cli;

/// <summary>A native library of goroutine code, loaded so that it shares this process's
/// libspindle: that copy is loaded first, and the loader then binds the library's
/// libspindle (by its soname, libspindle.so.MAJOR.MINOR before 1.0) to it instead of
/// loading a second copy.</summary>
/// <param name="Entry">The entry function.</param>
/// <param name="Path">The file loaded.</param>
/// <param name="FoundBySearch">Whether the loader's search path found it (a bare name that
/// is not a file here).</param>
internal sealed record NativeProgram(nint Entry, string Path, bool FoundBySearch)
{
    /// <summary>How the library was built for segmented stacks: an sp_split_status.</summary>
    public unsafe int SplitStatus => Interop.SpindleNative.sp_split_stack_status((delegate* unmanaged<void*, void>)Entry);

    /// <summary>Loads library and finds entry.</summary>
    /// <exception cref="CliException">What is missing or wrong, and how to fix it.</exception>
    public static NativeProgram Load(string library, string entry)
    {
        _ = Runtime.NativeVersion; // loads libspindle first
        bool isFile = File.Exists(library);
        string path = isFile ? System.IO.Path.GetFullPath(library) : library;
        // Checked before loading when it can be, so that a library that needs another
        // libspindle never brings a second copy in.
        if (isFile)
            CheckLinkage(path, library);
        nint handle;
        try
        {
            handle = NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            throw new CliException($"cannot load library '{library}': {e.Message}");
        }
        catch (BadImageFormatException e)
        {
            throw new CliException($"'{library}' is not a native library for this platform: {e.Message}");
        }
        if (!NativeLibrary.TryGetExport(handle, entry, out nint fn))
            throw new CliException($"library '{library}' has no symbol '{entry}' (a goroutine entry: void {entry}(void *arg))");
        if (!isFile)
        {
            path = MappedFile(fn) ?? library;
            CheckLinkage(path, library);
        }
        return new NativeProgram(fn, path, !isFile);
    }

    /// <summary>Refuses a library that uses libspindle without linking it (the loader would
    /// end the process at its first call), or that links another release's libspindle
    /// (a second copy, whose goroutine calls would all fail).</summary>
    private static void CheckLinkage(string path, string library)
    {
        ElfLinkage? linkage = ElfLinkage.Read(path);
        if (linkage is null)
            return;
        string name = System.IO.Path.GetFileName(library);
        string[] spindles = linkage.Needed.Where(n => n.StartsWith("libspindle.", StringComparison.Ordinal)).ToArray();
        if (spindles.Length == 0)
        {
            string? used = linkage.Undefined.FirstOrDefault(s => s.StartsWith("sp_", StringComparison.Ordinal));
            if (used is not null)
                throw new CliException($"{name} uses libspindle ({used}) but is not linked with it: " +
                                       "link it with -lspindle, or with $(pkg-config --libs spindle)");
            return;
        }
        string? ours = OurSoName();
        if (ours is not null && !spindles.Contains(ours))
            throw new CliException($"{name} needs {spindles[0]}, another Spindle release than this one " +
                                   $"({Runtime.NativeVersion}, {ours}): rebuild it against Spindle {Runtime.NativeVersion}");
    }

    /// <summary>The soname of the libspindle this process loaded, or null where that
    /// cannot be told.</summary>
    private static string? OurSoName()
    {
        string? file = MappedFile(NativeLibrary.GetExport(Interop.SpindleLibrary.Handle, "sp_version"));
        return file is null ? null : ElfLinkage.Read(file)?.SoName;
    }

    /// <summary>The file mapped at address (Linux: /proc/self/maps), or null.</summary>
    private static string? MappedFile(nint address)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        ulong at = (ulong)address;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            // start-end perms offset dev inode path
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || !fields[5].StartsWith('/'))
                continue;
            string[] range = fields[0].Split('-');
            if (ulong.TryParse(range[0], NumberStyles.HexNumber, null, out ulong lo) &&
                ulong.TryParse(range[1], NumberStyles.HexNumber, null, out ulong hi) && at >= lo && at < hi)
                return fields[5];
        }
        return null;
    }
}

/// <summary>A failure the command reports in one line and ends with exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);
