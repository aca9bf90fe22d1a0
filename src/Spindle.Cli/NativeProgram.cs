using System.Runtime.InteropServices;

namespace Spindle.Cli;

/// <summary>A native library of goroutine code, loaded so that it shares this process's
/// libspindle: that copy is loaded first, and the loader then binds the program's
/// libspindle.so.0 to it by its soname instead of loading a second copy.</summary>
internal static class NativeProgram
{
    /// <summary>Loads library and finds entry; on failure returns null with a message
    /// that says what is missing.</summary>
    public static nint? Find(string library, string entry, out string? error)
    {
        _ = Runtime.NativeVersion; // loads libspindle first
        error = null;
        nint handle;
        try
        {
            string path = File.Exists(library) ? Path.GetFullPath(library) : library;
            handle = NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            error = $"cannot load library '{library}': {e.Message}";
            return null;
        }
        catch (BadImageFormatException e)
        {
            error = $"'{library}' is not a native library for this platform: {e.Message}";
            return null;
        }
        if (!NativeLibrary.TryGetExport(handle, entry, out nint fn))
        {
            error = $"library '{library}' has no symbol '{entry}' (a goroutine entry: void {entry}(void *arg))";
            return null;
        }
        return fn;
    }
}
