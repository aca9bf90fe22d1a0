using static Spindle.Bindgen.LibClang;

namespace Spindle.Bindgen;

/// <summary>Maps C types to blittable C# types (DisableRuntimeMarshalling).</summary>
internal static unsafe class TypeMap
{
    private static readonly Dictionary<string, string> FixedWidth = new()
    {
        ["size_t"] = "nuint", ["ssize_t"] = "nint", ["intptr_t"] = "nint", ["uintptr_t"] = "nuint",
        ["int8_t"] = "sbyte", ["uint8_t"] = "byte", ["int16_t"] = "short", ["uint16_t"] = "ushort",
        ["int32_t"] = "int", ["uint32_t"] = "uint", ["int64_t"] = "long", ["uint64_t"] = "ulong",
        ["bool"] = "bool",
    };

    private static readonly HashSet<string> Keywords =
    [
        "out", "ref", "in", "params", "base", "object", "string", "event", "fixed", "lock", "checked",
        "delegate", "operator", "this", "is", "as", "new", "default", "internal", "namespace",
    ];

    public static string Identifier(string name) => Keywords.Contains(name) ? "@" + name : name;

    public static string ToCSharp(CXType t)
    {
        switch (t.Kind)
        {
            case CXType_Elaborated:
                return ToCSharp(clang_Type_getNamedType(t));
            case CXType_Typedef:
                return Typedef(t);
            case CXType_Pointer:
                return Pointer(clang_getPointeeType(t));
            case CXType_Record:
            case CXType_Enum:
                return Take(clang_getTypeSpelling(t)).Replace("const ", "").Replace("struct ", "").Replace("enum ", "").Trim();
            case CXType_Void: return "void";
            case CXType_Bool: return "bool";
            case CXType_Char_S: case CXType_Char_U: case CXType_UChar: return "byte";
            case CXType_SChar: return "sbyte";
            case CXType_Short: return "short";
            case CXType_UShort: return "ushort";
            case CXType_Int: return "int";
            case CXType_UInt: return "uint";
            case CXType_LongLong: return "long";
            case CXType_ULongLong: return "ulong";
            case CXType_Float: return "float";
            case CXType_Double: return "double";
            default:
                throw new BindgenException($"no C# mapping for C type '{Take(clang_getTypeSpelling(t))}' " +
                    "(long and unsigned long differ between Linux and Windows: use fixed-width types)");
        }
    }

    private static string Typedef(CXType t)
    {
        string name = Take(clang_getTypedefName(t));
        if (FixedWidth.TryGetValue(name, out string? mapped))
            return mapped;
        CXType underlying = clang_getTypedefDeclUnderlyingType(clang_getTypeDeclaration(t));
        CXType canonical = clang_getCanonicalType(underlying);
        // typedef struct x x; typedef enum x x; keep the tag's name.
        if (canonical.Kind is CXType_Record or CXType_Enum)
            return ToCSharp(canonical);
        return ToCSharp(underlying);
    }

    private static string Pointer(CXType pointee)
    {
        CXType canonical = clang_getCanonicalType(pointee);
        if (canonical.Kind == CXType_FunctionProto)
        {
            var parts = new List<string>();
            int n = clang_getNumArgTypes(canonical);
            for (uint i = 0; i < n; i++)
                parts.Add(ToCSharp(clang_getArgType(canonical, i)));
            parts.Add(ToCSharp(clang_getResultType(canonical)));
            return $"delegate* unmanaged<{string.Join(", ", parts)}>";
        }
        return ToCSharp(pointee) + "*";
    }
}
