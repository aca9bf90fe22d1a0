using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Spindle.Interop;

namespace Spindle;

/// <summary>The host bindings (SpindleHost) load the one libspindle the public bindings
/// chose (SpindleLibrary: the package's, NativePath or SPINDLE_NATIVE_PATH, version-checked).
/// Without this resolver this assembly's imports went through .NET's default probing and,
/// with another build named, loaded a second copy: the scheduler then ran on one library
/// and goroutine code on the other.</summary>
internal static class HostLibrary
{
#pragma warning disable CA2255 // the resolver must be in place before the first P/Invoke of this assembly
    [ModuleInitializer]
    internal static void Install() =>
        NativeLibrary.SetDllImportResolver(typeof(HostLibrary).Assembly,
            (name, _, _) => name == SpindleHost.LibraryName ? SpindleLibrary.Handle : 0);
#pragma warning restore CA2255
}
