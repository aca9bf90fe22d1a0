namespace Spindle.Bindgen;

/// <summary>What the generator learned from the header, in declaration order.</summary>
internal sealed class HeaderModel
{
    public List<ConstantDecl> Constants { get; } = [];
    public List<EnumDecl> Enums { get; } = [];
    public List<StructDecl> Structs { get; } = [];
    public List<FunctionDecl> Functions { get; } = [];
}

/// <summary>An integer constant: an anonymous-enum member or an object-like macro.</summary>
internal sealed record ConstantDecl(string Name, string CSharpType, string Value, string Doc);

/// <summary>A named enum, emitted as a C# enum of int.</summary>
internal sealed record EnumDecl(string Name, IReadOnlyList<ConstantDecl> Members, string Doc);

/// <summary>A struct; Opaque when the header only declares it.</summary>
internal sealed record StructDecl(string Name, IReadOnlyList<FieldDecl> Fields, bool Opaque, string Doc);

/// <summary>A struct field; ArraySize > 0 for a fixed-size array.</summary>
internal sealed record FieldDecl(string Name, string CSharpType, long ArraySize, string Doc);

/// <summary>A function parameter.</summary>
internal sealed record ParamDecl(string Name, string CSharpType);

/// <summary>An exported function. Trivial ones (doc tag @trivial) never block, switch
/// stacks or call back, so they may skip the GC transition.</summary>
internal sealed record FunctionDecl(string Name, string ReturnType, IReadOnlyList<ParamDecl> Params,
    string Doc, bool Trivial);
