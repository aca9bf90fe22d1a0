/* Names of codes (errors, guard modes) and the library version. */
#include "coro_internal.h"

const char *sp_strerror(int err)
{
    switch (err) {
    case SP_OK: return "SP_OK: success";
    case SP_EINVAL: return "SP_EINVAL: invalid argument";
    case SP_ENOMEM: return "SP_ENOMEM: out of memory or address space";
    case SP_ECLOSED: return "SP_ECLOSED: channel is closed";
    case SP_ENOTGOROUTINE: return "SP_ENOTGOROUTINE: not called from inside a coroutine or goroutine";
    case SP_ESTACKOVERFLOW: return "SP_ESTACKOVERFLOW: stack limit exceeded";
    case SP_ECALLBACK: return "SP_ECALLBACK: managed callback failed";
    case SP_ESTALE: return "SP_ESTALE: handle refers to an object that no longer exists";
    case SP_ENOTSUP: return "SP_ENOTSUP: not supported on this platform or build";
    case SP_ESTATE: return "SP_ESTATE: object is in the wrong state for this call";
    case SP_ENOTSPLIT: return "SP_ENOTSPLIT: the function's module was not built with -fsplit-stack "
                              "(build it with spindle_add_goroutine_library)";
    case SP_ECANCELED: return "SP_ECANCELED: the wait was cancelled";
    default: return "unknown error";
    }
}

const char *sp_version(void)
{
    return SPINDLE_VERSION;
}

const char *sp_stack_guard_mode_name(int mode)
{
    switch (mode) {
    case SP_GUARD_MADVISE: return "madvise-guard";
    case SP_GUARD_MPROTECT: return "mprotect";
    case SP_GUARD_WINDOWS: return "windows-guard-page";
    case SP_GUARD_NONE: return "none";
    default: return "unknown";
    }
}
