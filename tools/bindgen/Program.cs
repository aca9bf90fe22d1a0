// spindle-bindgen: writes the C# bindings of a libspindle header.
//
//   spindle-bindgen --header native/include/spindle.h --out src/Spindle.Interop/SpindleNative.g.cs
//                   [--class NAME] [--internal] [--include DIR]...
//
// NAME: the static class of the functions and constants (default
// SpindleNative). --internal: every type it writes is internal (the host
// header's bindings, for Spindle.Runtime alone). DIR: where the compiler's
// own headers (stddef.h, stdbool.h) are; libclang ships none. Default: what
// `cc -print-file-name=include` prints.
using System.Diagnostics;
using Spindle.Bindgen;

string? header = null, output = null, className = "SpindleNative";
bool isInternal = false;
var includes = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new BindgenException($"{args[i]} needs a value");
    try
    {
        switch (args[i])
        {
            case "--header": header = Next(); break;
            case "--out": output = Next(); break;
            case "--include": includes.Add(Next()); break;
            case "--class": className = Next(); break;
            case "--internal": isInternal = true; break;
            default: throw new BindgenException($"unknown argument '{args[i]}'");
        }
    }
    catch (BindgenException e)
    {
        Console.Error.WriteLine($"spindle-bindgen: {e.Message}");
        return 2;
    }
}
if (header is null || output is null)
{
    Console.Error.WriteLine("usage: spindle-bindgen --header FILE --out FILE [--class NAME] [--internal] [--include DIR]...");
    return 2;
}
if (!File.Exists(header))
{
    Console.Error.WriteLine($"spindle-bindgen: no header at '{header}'");
    return 2;
}
try
{
    if (includes.Count == 0)
        includes.Add(CompilerIncludeDir());
    using var parser = new HeaderParser(header, includes);
    HeaderModel model = parser.Parse();
    string text = CSharpEmitter.Emit(model, "native/include/" + Path.GetFileName(header), className, isInternal);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
    File.WriteAllText(output, text);
    Console.WriteLine($"spindle-bindgen: {model.Functions.Count} functions, {model.Structs.Count} structs, " +
                      $"{model.Enums.Count} enums, {model.Constants.Count} constants -> {output}");
    return 0;
}
catch (BindgenException e)
{
    Console.Error.WriteLine($"spindle-bindgen: {e.Message}");
    return 1;
}

static string CompilerIncludeDir()
{
    foreach (string cc in new[] { "cc", "gcc", "clang" })
    {
        try
        {
            var psi = new ProcessStartInfo(cc, "-print-file-name=include") { RedirectStandardOutput = true };
            using Process p = Process.Start(psi)!;
            string dir = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (p.ExitCode == 0 && Directory.Exists(dir))
                return dir;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // not installed: try the next compiler
        }
    }
    throw new BindgenException("no C compiler found to locate stddef.h; pass --include DIR");
}
