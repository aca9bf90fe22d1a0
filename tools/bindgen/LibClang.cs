using System.Runtime.InteropServices;

namespace Spindle.Bindgen;

/// <summary>The part of libclang's C API (clang-c/Index.h) the generator uses.</summary>
internal static unsafe partial class LibClang
{
    private const string Lib = "libclang";

    [StructLayout(LayoutKind.Sequential)]
    public struct CXString { public void* Data; public uint Flags; }

    [StructLayout(LayoutKind.Sequential)]
    public struct CXCursor { public int Kind; public int XData; public void* D0, D1, D2; }

    [StructLayout(LayoutKind.Sequential)]
    public struct CXType { public int Kind; public void* D0, D1; }

    [StructLayout(LayoutKind.Sequential)]
    public struct CXSourceLocation { public void* P0, P1; public uint IntData; }

    [StructLayout(LayoutKind.Sequential)]
    public struct CXSourceRange { public void* P0, P1; public uint Begin, End; }

    [StructLayout(LayoutKind.Sequential)]
    public struct CXUnsavedFile { public byte* Filename; public byte* Contents; public nuint Length; }

    // Cursor kinds.
    public const int CXCursor_StructDecl = 2, CXCursor_EnumDecl = 5, CXCursor_FieldDecl = 6,
        CXCursor_EnumConstantDecl = 7, CXCursor_FunctionDecl = 8, CXCursor_TypedefDecl = 20,
        CXCursor_MacroDefinition = 501, CXCursor_VarDecl = 9;

    // Type kinds.
    public const int CXType_Void = 2, CXType_Bool = 3, CXType_Char_U = 4, CXType_UChar = 5,
        CXType_UShort = 8, CXType_UInt = 9, CXType_ULong = 10, CXType_ULongLong = 11,
        CXType_Char_S = 13, CXType_SChar = 14, CXType_Short = 16, CXType_Int = 17, CXType_Long = 18,
        CXType_LongLong = 19, CXType_Float = 21, CXType_Double = 22, CXType_Pointer = 101,
        CXType_Record = 105, CXType_Enum = 106, CXType_Typedef = 107, CXType_FunctionProto = 111,
        CXType_ConstantArray = 112, CXType_Elaborated = 119;

    public const uint CXTranslationUnit_DetailedPreprocessingRecord = 0x01;
    public const uint CXTranslationUnit_SkipFunctionBodies = 0x40;
    public const int CXDiagnostic_Warning = 2;
    public const int CXEval_Int = 1;

    [LibraryImport(Lib)] public static partial void* clang_createIndex(int excludePch, int displayDiagnostics);
    [LibraryImport(Lib)] public static partial void clang_disposeIndex(void* index);
    [LibraryImport(Lib)]
    public static partial int clang_parseTranslationUnit2(void* index, byte* file, byte** args, int nargs,
        CXUnsavedFile* unsaved, uint nunsaved, uint options, void** tu);
    [LibraryImport(Lib)] public static partial void clang_disposeTranslationUnit(void* tu);
    [LibraryImport(Lib)] public static partial uint clang_getNumDiagnostics(void* tu);
    [LibraryImport(Lib)] public static partial void* clang_getDiagnostic(void* tu, uint index);
    [LibraryImport(Lib)] public static partial int clang_getDiagnosticSeverity(void* diag);
    [LibraryImport(Lib)] public static partial CXString clang_formatDiagnostic(void* diag, uint options);
    [LibraryImport(Lib)] public static partial void clang_disposeDiagnostic(void* diag);
    [LibraryImport(Lib)] public static partial CXCursor clang_getTranslationUnitCursor(void* tu);
    [LibraryImport(Lib)]
    public static partial uint clang_visitChildren(CXCursor parent,
        delegate* unmanaged<CXCursor, CXCursor, void*, int> visitor, void* data);
    [LibraryImport(Lib)] public static partial CXString clang_getCursorSpelling(CXCursor c);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getCursorLocation(CXCursor c);
    [LibraryImport(Lib)] public static partial CXSourceRange clang_getCursorExtent(CXCursor c);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getRangeStart(CXSourceRange r);
    [LibraryImport(Lib)] public static partial int clang_Location_isFromMainFile(CXSourceLocation loc);
    [LibraryImport(Lib)]
    public static partial void clang_getSpellingLocation(CXSourceLocation loc, void** file, uint* line,
        uint* column, uint* offset);
    [LibraryImport(Lib)] public static partial CXType clang_getCursorType(CXCursor c);
    [LibraryImport(Lib)] public static partial CXType clang_getCanonicalType(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_getPointeeType(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_getResultType(CXType t);
    [LibraryImport(Lib)] public static partial int clang_getNumArgTypes(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_getArgType(CXType t, uint i);
    [LibraryImport(Lib)] public static partial CXType clang_getArrayElementType(CXType t);
    [LibraryImport(Lib)] public static partial long clang_getArraySize(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_Type_getNamedType(CXType t);
    [LibraryImport(Lib)] public static partial CXString clang_getTypeSpelling(CXType t);
    [LibraryImport(Lib)] public static partial CXString clang_getTypedefName(CXType t);
    [LibraryImport(Lib)] public static partial CXCursor clang_getTypeDeclaration(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_getTypedefDeclUnderlyingType(CXCursor c);
    [LibraryImport(Lib)] public static partial int clang_Cursor_getNumArguments(CXCursor c);
    [LibraryImport(Lib)] public static partial CXCursor clang_Cursor_getArgument(CXCursor c, uint i);
    [LibraryImport(Lib)] public static partial long clang_getEnumConstantDeclValue(CXCursor c);
    [LibraryImport(Lib)] public static partial CXString clang_Cursor_getRawCommentText(CXCursor c);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isAnonymous(CXCursor c);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isMacroFunctionLike(CXCursor c);
    [LibraryImport(Lib)] public static partial void* clang_Cursor_Evaluate(CXCursor c);
    [LibraryImport(Lib)] public static partial int clang_EvalResult_getKind(void* r);
    [LibraryImport(Lib)] public static partial ulong clang_EvalResult_getAsUnsigned(void* r);
    [LibraryImport(Lib)] public static partial void clang_EvalResult_dispose(void* r);
    [LibraryImport(Lib)] public static partial byte* clang_getCString(CXString s);
    [LibraryImport(Lib)] public static partial void clang_disposeString(CXString s);

    /// <summary>Copies a CXString into a managed string and disposes it.</summary>
    public static string Take(CXString s)
    {
        string text = Marshal.PtrToStringUTF8((nint)clang_getCString(s)) ?? "";
        clang_disposeString(s);
        return text;
    }
}
