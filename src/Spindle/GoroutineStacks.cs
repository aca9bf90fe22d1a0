using Spindle.Interop;

namespace Spindle;

/// <summary>The kind of stack a native goroutine runs on (sp_stack_kind).</summary>
public enum GoroutineStacks
{
    /// <summary>Segmented where available (x86-64 Linux) for code built with
    /// -fsplit-stack (spindle_add_goroutine_library); reserved otherwise.</summary>
    Default = sp_stack_kind.SP_STACK_DEFAULT,
    /// <summary>A reserved virtual range per goroutine (256 KiB unless
    /// <see cref="Runtime.MaxStack"/> says otherwise), pages committed as touched.</summary>
    Reserved = sp_stack_kind.SP_STACK_RESERVED,
    /// <summary>2 KiB segments that grow as deep as the code goes. Starting a goroutine
    /// whose code was not built with -fsplit-stack fails with SP_ENOTSPLIT; where
    /// segments are not available, with SP_ENOTSUP.</summary>
    Segmented = sp_stack_kind.SP_STACK_SEGMENTED,
}
