using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Spindle.Interop;

/// <summary>
/// Which libspindle the bindings load, and the check that it is the release they were built
/// with. By default the library comes from where .NET finds native assets: the
/// <c>runtimes/RID/native</c> folder of the Spindle package, or the application's folder.
/// <see cref="NativePath"/>, or else the <c>SPINDLE_NATIVE_PATH</c> environment variable,
/// points at another build instead. Whichever is loaded, its <c>sp_version()</c> must be
/// <see cref="ExpectedVersion"/>; otherwise the first call into Spindle throws a
/// <see cref="DllNotFoundException"/> that names both versions.
/// </summary>
public static unsafe class SpindleLibrary
{
    /// <summary>The environment variable read when <see cref="NativePath"/> is not set: a
    /// libspindle file, or a folder that holds one under its platform's name.</summary>
    public const string PathVariable = "SPINDLE_NATIVE_PATH";

    private static readonly object s_lock = new();
    private static string? s_nativePath;
    private static nint s_handle;

    /// <summary>The libspindle release these bindings were generated and built with
    /// (the repository's VERSION file).</summary>
    public static string ExpectedVersion { get; } =
        typeof(SpindleLibrary).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "SpindleNativeVersion").Value!;

    /// <summary>A libspindle file, or a folder holding one, to load instead of the default;
    /// takes precedence over <c>SPINDLE_NATIVE_PATH</c>. Set it before the first call into
    /// Spindle: once the library is loaded, setting it throws.</summary>
    /// <exception cref="InvalidOperationException">libspindle is already loaded.</exception>
    public static string? NativePath
    {
        get => s_nativePath;
        set
        {
            lock (s_lock)
            {
                if (s_handle != 0)
                    throw new InvalidOperationException(
                        "spindle: libspindle is already loaded; set SpindleLibrary.NativePath before the first call into Spindle");
                s_nativePath = value;
            }
        }
    }

    /// <summary>The handle of the libspindle the bindings use, loaded (and checked) if it
    /// was not yet: for <see cref="NativeLibrary.GetExport"/>.</summary>
    /// <exception cref="DllNotFoundException">No usable libspindle (the message says why).</exception>
    public static nint Handle => Resolve(SpindleNative.LibraryName, typeof(SpindleLibrary).Assembly, null);

    /// <summary>The file name of libspindle on this platform: libspindle.so, spindle.dll
    /// or libspindle.dylib.</summary>
    public static string FileName =>
        OperatingSystem.IsWindows() ? "spindle.dll" : OperatingSystem.IsMacOS() ? "libspindle.dylib" : "libspindle.so";

#pragma warning disable CA2255 // the resolver must be in place before the first P/Invoke of this assembly
    [ModuleInitializer]
    internal static void Install() => NativeLibrary.SetDllImportResolver(typeof(SpindleLibrary).Assembly, Resolve);
#pragma warning restore CA2255

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != SpindleNative.LibraryName)
            return 0;
        lock (s_lock)
        {
            if (s_handle != 0)
                return s_handle;
            string? asked = s_nativePath ?? NonEmpty(Environment.GetEnvironmentVariable(PathVariable));
            nint handle;
            string where;
            if (asked is not null)
            {
                string file = Directory.Exists(asked) ? Path.Combine(asked, FileName) : asked;
                where = Path.GetFullPath(file);
                string origin = s_nativePath is not null ? "SpindleLibrary.NativePath" : PathVariable;
                if (!File.Exists(where))
                    throw new DllNotFoundException(
                        $"spindle: {origin} is '{asked}', and there is no {(file == asked ? "such file" : FileName + " in that folder")}: " +
                        $"point it at a libspindle {ExpectedVersion} build (a file or its folder), or unset it to use the one the package ships");
                if (!NativeLibrary.TryLoad(where, out handle))
                    throw new DllNotFoundException(
                        $"spindle: {origin} names '{where}', which cannot be loaded as a native library for this platform " +
                        $"({RuntimeInformation.RuntimeIdentifier})");
            }
            else
            {
                where = $"the {FileName} .NET found for this application";
                if (!NativeLibrary.TryLoad(name, assembly, searchPath, out handle))
                    throw new DllNotFoundException(
                        $"spindle: no {FileName} for {RuntimeInformation.RuntimeIdentifier} beside the application (the Spindle " +
                        $"package carries one for linux-x64, linux-arm64 and win-x64): set {PathVariable} to a libspindle " +
                        $"{ExpectedVersion} build");
            }
            CheckVersion(handle, where);
            s_handle = handle;
            return handle;
        }
    }

    private static void CheckVersion(nint handle, string where)
    {
        string? found = null;
        if (NativeLibrary.TryGetExport(handle, "sp_version", out nint export))
            found = Marshal.PtrToStringUTF8((nint)((delegate* unmanaged<byte*>)export)());
        if (found == ExpectedVersion)
            return;
        NativeLibrary.Free(handle);
        throw new DllNotFoundException(found is null
            ? $"spindle: {where} is not libspindle (it has no sp_version)"
            : $"spindle: Spindle {ExpectedVersion} needs libspindle {ExpectedVersion}, but {where} is libspindle {found}: " +
              $"use the libspindle of the same release (the Spindle {ExpectedVersion} package carries it), " +
              $"or point {PathVariable} at a {ExpectedVersion} build");
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
