using System.Runtime.InteropServices;
using System.Text;
using static Spindle.Bindgen.LibClang;

namespace Spindle.Bindgen;

/// <summary>Parses the C header with libclang into a <see cref="HeaderModel"/>.
/// Any clang warning or error is fatal: the bindings must come from a header
/// that compiles cleanly.</summary>
internal sealed unsafe class HeaderParser : IDisposable
{
    private readonly string _header;
    private readonly string[] _clangArgs;
    private readonly void* _index;

    public HeaderParser(string header, IEnumerable<string> includeDirs)
    {
        _header = Path.GetFullPath(header);
        _clangArgs = ["-x", "c", "-std=c11", "-Wall", "-Wextra",
            .. includeDirs.SelectMany(d => new[] { "-isystem", d })];
        _index = clang_createIndex(0, 0);
    }

    public void Dispose() => clang_disposeIndex(_index);

    public HeaderModel Parse()
    {
        var model = new HeaderModel();
        void* tu = ParseFile(_header, null, failOnDiagnostics: true);
        try
        {
            var top = new List<CXCursor>();
            Visit(clang_getTranslationUnitCursor(tu), top);
            var macros = new List<(string Name, string Doc)>();
            foreach (CXCursor c in top)
            {
                if (clang_Location_isFromMainFile(clang_getCursorLocation(c)) == 0)
                    continue;
                switch (c.Kind)
                {
                    case CXCursor_EnumDecl: AddEnum(model, c); break;
                    case CXCursor_StructDecl: AddStruct(model, c); break;
                    case CXCursor_FunctionDecl: AddFunction(model, c); break;
                    case CXCursor_MacroDefinition:
                        if (clang_Cursor_isMacroFunctionLike(c) == 0)
                            macros.Add((Take(clang_getCursorSpelling(c)), CommentBefore(c)));
                        break;
                }
            }
            foreach (var (name, doc) in macros)
                if (EvaluateMacro(name) is { } value)
                    model.Constants.Add(new ConstantDecl(name, "ulong", value + "UL", doc));
        }
        finally
        {
            clang_disposeTranslationUnit(tu);
        }
        return model;
    }

    private void* ParseFile(string path, string? contents, bool failOnDiagnostics)
    {
        byte[][] args = _clangArgs.Select(a => Encoding.UTF8.GetBytes(a + "\0")).ToArray();
        var handles = args.Select(a => GCHandle.Alloc(a, GCHandleType.Pinned)).ToArray();
        try
        {
            byte** argv = stackalloc byte*[args.Length];
            for (int i = 0; i < args.Length; i++)
                argv[i] = (byte*)handles[i].AddrOfPinnedObject();
            byte[] file = Encoding.UTF8.GetBytes(path + "\0");
            byte[] text = Encoding.UTF8.GetBytes((contents ?? "") + "\0");
            fixed (byte* f = file)
            fixed (byte* t = text)
            {
                var unsaved = new CXUnsavedFile { Filename = f, Contents = t, Length = (nuint)(text.Length - 1) };
                void* tu;
                int err = clang_parseTranslationUnit2(_index, f, argv, args.Length,
                    contents is null ? null : &unsaved, contents is null ? 0u : 1u,
                    CXTranslationUnit_DetailedPreprocessingRecord | CXTranslationUnit_SkipFunctionBodies, &tu);
                if (err != 0)
                    throw new BindgenException($"libclang could not parse {path} (error {err})");
                var problems = Diagnostics(tu);
                if (problems.Count > 0)
                {
                    if (!failOnDiagnostics)
                    {
                        clang_disposeTranslationUnit(tu);
                        return null;
                    }
                    clang_disposeTranslationUnit(tu);
                    throw new BindgenException("clang diagnostics in " + path + ":\n  " + string.Join("\n  ", problems));
                }
                return tu;
            }
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }

    private static List<string> Diagnostics(void* tu)
    {
        var list = new List<string>();
        uint n = clang_getNumDiagnostics(tu);
        for (uint i = 0; i < n; i++)
        {
            void* d = clang_getDiagnostic(tu, i);
            if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Warning)
                list.Add(Take(clang_formatDiagnostic(d, 0x1 | 0x2 | 0x4)));
            clang_disposeDiagnostic(d);
        }
        return list;
    }

    /// <summary>The integer value of an object-like macro, or null when it is not an
    /// integer constant expression (an attribute macro, an include guard).</summary>
    private string? EvaluateMacro(string name)
    {
        string probe = Path.Combine(Path.GetDirectoryName(_header)!, $"__spindle_bindgen_{name}.c");
        string source = $"#include \"{Path.GetFileName(_header)}\"\n" +
                        $"const unsigned long long spindle_bindgen_value = (unsigned long long)({name});\n";
        void* tu = ParseFile(probe, source, failOnDiagnostics: false);
        if (tu is null)
            return null;
        try
        {
            var top = new List<CXCursor>();
            Visit(clang_getTranslationUnitCursor(tu), top);
            foreach (CXCursor c in top)
            {
                if (c.Kind != CXCursor_VarDecl || Take(clang_getCursorSpelling(c)) != "spindle_bindgen_value")
                    continue;
                void* r = clang_Cursor_Evaluate(c);
                if (r is null) return null;
                try
                {
                    return clang_EvalResult_getKind(r) == CXEval_Int ? clang_EvalResult_getAsUnsigned(r).ToString() : null;
                }
                finally { clang_EvalResult_dispose(r); }
            }
            return null;
        }
        finally
        {
            clang_disposeTranslationUnit(tu);
        }
    }

    private void AddEnum(HeaderModel model, CXCursor c)
    {
        var members = new List<ConstantDecl>();
        var children = new List<CXCursor>();
        Visit(c, children);
        foreach (CXCursor m in children.Where(m => m.Kind == CXCursor_EnumConstantDecl))
            members.Add(new ConstantDecl(Take(clang_getCursorSpelling(m)), "int",
                clang_getEnumConstantDeclValue(m).ToString(), Doc(m)));
        if (clang_Cursor_isAnonymous(c) != 0)
            model.Constants.AddRange(members);
        else
            model.Enums.Add(new EnumDecl(Take(clang_getCursorSpelling(c)), members, Doc(c)));
    }

    private void AddStruct(HeaderModel model, CXCursor c)
    {
        string name = Take(clang_getCursorSpelling(c));
        var children = new List<CXCursor>();
        Visit(c, children);
        var fields = children.Where(f => f.Kind == CXCursor_FieldDecl).Select(f =>
        {
            CXType t = clang_getCursorType(f);
            long size = 0;
            if (t.Kind == CXType_ConstantArray)
            {
                size = clang_getArraySize(t);
                t = clang_getArrayElementType(t);
            }
            return new FieldDecl(TypeMap.Identifier(Take(clang_getCursorSpelling(f))), TypeMap.ToCSharp(t), size, Doc(f));
        }).ToList();
        int existing = model.Structs.FindIndex(s => s.Name == name);
        var decl = new StructDecl(name, fields, fields.Count == 0, Doc(c));
        if (existing < 0)
            model.Structs.Add(decl);
        else if (fields.Count > 0)
            model.Structs[existing] = decl with { Doc = decl.Doc.Length > 0 ? decl.Doc : model.Structs[existing].Doc };
    }

    private void AddFunction(HeaderModel model, CXCursor c)
    {
        CXType type = clang_getCursorType(c);
        var ps = new List<ParamDecl>();
        int n = clang_Cursor_getNumArguments(c);
        for (uint i = 0; i < n; i++)
        {
            CXCursor arg = clang_Cursor_getArgument(c, i);
            ps.Add(new ParamDecl(TypeMap.Identifier(Take(clang_getCursorSpelling(arg))),
                TypeMap.ToCSharp(clang_getCursorType(arg))));
        }
        string raw = Take(clang_Cursor_getRawCommentText(c));
        model.Functions.Add(new FunctionDecl(Take(clang_getCursorSpelling(c)),
            TypeMap.ToCSharp(clang_getResultType(type)), ps, DocText.Clean(raw), raw.Contains("@trivial")));
    }

    private static string Doc(CXCursor c) => DocText.Clean(Take(clang_Cursor_getRawCommentText(c)));

    /// <summary>libclang attaches no comments to macros: take the /** */ block that
    /// ends on the line before the #define.</summary>
    private string CommentBefore(CXCursor c)
    {
        uint line;
        clang_getSpellingLocation(clang_getCursorLocation(c), null, &line, null, null);
        string[] lines = File.ReadAllLines(_header);
        int end = (int)line - 2;
        if (end < 0 || !lines[end].TrimEnd().EndsWith("*/", StringComparison.Ordinal))
            return "";
        int start = end;
        while (start > 0 && !lines[start].Contains("/**", StringComparison.Ordinal))
            start--;
        return DocText.Clean(string.Join("\n", lines[start..(end + 1)]));
    }

    private static void Visit(CXCursor parent, List<CXCursor> into)
    {
        var handle = GCHandle.Alloc(into);
        try
        {
            clang_visitChildren(parent, &CollectChild, (void*)GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }
    }

    [UnmanagedCallersOnly]
    private static int CollectChild(CXCursor cursor, CXCursor parent, void* data)
    {
        var list = (List<CXCursor>)GCHandle.FromIntPtr((nint)data).Target!;
        list.Add(cursor);
        return 1; // CXChildVisit_Continue
    }
}

/// <summary>A failure the generator reports and exits on.</summary>
internal sealed class BindgenException(string message) : Exception(message);
