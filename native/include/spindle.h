/*
 * spindle.h - the public C API of libspindle.
 *
 * This header is the single source of truth for Spindle's native interface:
 * the managed bindings (src/Spindle.Interop) are generated from it.
 *
 * Conventions
 *   - Every function that can fail returns SP_OK (0) or a negative SP_E* code;
 *     sp_strerror() names it. Bad input gets an error code, never a crash.
 *   - Handles are opaque. Sizes are size_t, times are nanoseconds (int64_t).
 *
 * What is here today
 *   - the error model;
 *   - standalone stackful coroutines (no scheduler): create, resume, yield,
 *     destroy, stack high-water mark;
 *   - the runtime-call record: a coroutine posts a request, whoever resumed it
 *     serves it on its own stack and resumes the coroutine with the answer.
 *     This is the mechanism the Spindle scheduler is built on (DESIGN.md s.3).
 */
#ifndef SPINDLE_H
#define SPINDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  if defined(SPINDLE_BUILDING)
#    define SP_API __declspec(dllexport)
#  else
#    define SP_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define SP_API __attribute__((visibility("default")))
#else
#  define SP_API
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/** Result codes. SP_OK is success; every failure is negative. */
enum {
    SP_OK = 0,               /**< success */
    SP_EINVAL = -1,          /**< an argument is invalid (null pointer, bad size, ...) */
    SP_ENOMEM = -2,          /**< memory or address space could not be obtained */
    SP_ECLOSED = -3,         /**< the channel is closed */
    SP_ENOTGOROUTINE = -4,   /**< the call must be made from inside a coroutine/goroutine */
    SP_ESTACKOVERFLOW = -5,  /**< a stack limit was exceeded */
    SP_ECALLBACK = -6,       /**< a managed callback failed */
    SP_ESTALE = -7,          /**< the handle refers to an object that no longer exists */
    SP_ENOTSUP = -8,         /**< not supported on this platform or build */
    SP_ESTATE = -9           /**< the object is in the wrong state for this call
                                  (e.g. resuming a finished or running coroutine) */
};

/**
 * Returns a static, human-readable name and description of an error code,
 * e.g. "SP_EINVAL: invalid argument". Unknown codes give "unknown error".
 * Never returns NULL.
 */
SP_API const char *sp_strerror(int err);

/** The entry point of a coroutine or goroutine. */
typedef void (*sp_fn)(void *arg);

/* ------------------------------------------------------------------------ */
/* Coroutines: standalone, no scheduler                                     */
/* ------------------------------------------------------------------------ */

/** A stackful coroutine. Opaque. */
typedef struct sp_coro sp_coro;

/** Which kind of stack a coroutine runs on. */
typedef enum sp_stack_kind {
    /** The platform default: today, SP_STACK_RESERVED everywhere. */
    SP_STACK_DEFAULT = 0,
    /** A reserved virtual range; pages are committed as they are touched,
        with a guard region below that turns an overflow into a fatal message. */
    SP_STACK_RESERVED = 1,
    /** 2 KB growable segments (x86-64 Linux, -fsplit-stack code).
        Not implemented yet: sp_coro_create returns SP_ENOTSUP. */
    SP_STACK_SEGMENTED = 2
} sp_stack_kind;

/** Coroutine creation options. Zero-initialise, then set what you need. */
typedef struct sp_coro_options {
    /** An sp_stack_kind value; 0 is SP_STACK_DEFAULT. */
    int32_t kind;
    /** Bytes committed when the coroutine is created (reserved stacks commit
        lazily on Linux and macOS, so this matters on Windows only); 0 means
        one page. Must not exceed max_stack. */
    size_t initial_stack;
    /** The most stack the coroutine may use; 0 means SP_DEFAULT_MAX_STACK.
        Rounded up to whole pages; must lie within
        [SP_MIN_MAX_STACK, SP_MAX_MAX_STACK]. */
    size_t max_stack;
} sp_coro_options;

/** The default maximum stack of a coroutine: 256 KiB. */
#define SP_DEFAULT_MAX_STACK ((size_t)256 * 1024)
/** The smallest accepted max_stack: 8 KiB. */
#define SP_MIN_MAX_STACK ((size_t)8 * 1024)
/** The largest accepted max_stack: 1 GiB. */
#define SP_MAX_MAX_STACK ((size_t)1024 * 1024 * 1024)

/** sp_coro_resume results (non-negative; errors are negative SP_E* codes). */
enum {
    /** The coroutine called sp_coro_yield and can be resumed again. */
    SP_CORO_SUSPENDED = 1,
    /** The coroutine's function returned; only sp_coro_destroy is left. */
    SP_CORO_DONE = 2,
    /** The coroutine posted a runtime call with sp_coro_request; read it with
        sp_coro_pending, fill in its result, then resume the coroutine. */
    SP_CORO_REQUEST = 3,
    /** Only from sp_coro_state: the coroutine is running (or has resumed
        another coroutine that is running). */
    SP_CORO_RUNNING = 4
};

/**
 * Creates a suspended coroutine that will run fn(arg) on its own stack when
 * first resumed. opts may be NULL for defaults. Coroutines created from a
 * warm pool on the same thread make no system call.
 *
 * Errors: SP_EINVAL (out or fn NULL, bad options), SP_ENOMEM (no memory or
 * address space), SP_ENOTSUP (stack kind not available here). On error *out
 * is set to NULL when out is not NULL.
 */
SP_API int sp_coro_create(sp_coro **out, sp_fn fn, void *arg, const sp_coro_options *opts);

/**
 * Runs co on the calling thread until it yields, posts a request, or returns.
 * A suspended coroutine may be resumed from any thread. Coroutines may resume
 * other coroutines (nesting); yield returns to the one that resumed.
 *
 * Returns SP_CORO_SUSPENDED, SP_CORO_REQUEST or SP_CORO_DONE, or
 * SP_EINVAL (co NULL), SP_ESTALE (co was destroyed), SP_ESTATE (co is running,
 * or has finished).
 */
SP_API int sp_coro_resume(sp_coro *co);

/**
 * Suspends the calling coroutine and returns to whoever resumed it; returns
 * SP_OK when resumed again. Outside a coroutine: SP_ENOTGOROUTINE.
 */
SP_API int sp_coro_yield(void);

/** The coroutine running on the calling thread, or NULL outside one. */
SP_API sp_coro *sp_coro_self(void);

/**
 * The high-water mark of co's stack: the most bytes it has used since it was
 * created (deepest byte written, measured from the top of its stack). Meant
 * for sizing and diagnostics: it reads the stack, so it costs time in
 * proportion to the stack's maximum size. Returns 0 for NULL or a destroyed
 * coroutine.
 */
SP_API size_t sp_coro_stack_used(const sp_coro *co);

/** The maximum stack size of co in bytes (0 for NULL or a destroyed coroutine). */
SP_API size_t sp_coro_stack_max(const sp_coro *co);

/** A process-unique id of co, never 0 (0 for NULL or a destroyed coroutine).
    Fatal messages (such as a stack overflow) name coroutines by this id. */
SP_API uint64_t sp_coro_id(const sp_coro *co);

/** The state of co: 0 (created, never resumed), SP_CORO_SUSPENDED,
    SP_CORO_REQUEST, SP_CORO_DONE, or SP_CORO_RUNNING; or SP_EINVAL (NULL),
    SP_ESTALE (destroyed). */
SP_API int sp_coro_state(const sp_coro *co);

/**
 * Destroys a coroutine that is not running: one that never started, is
 * suspended (its stack is discarded; nothing on it is unwound), or is done.
 * Its stack returns to the calling thread's pool.
 *
 * Errors: SP_EINVAL (NULL), SP_ESTALE (already destroyed), SP_ESTATE (co is
 * running or has resumed another coroutine that is running).
 * A destroyed coroutine is recognised as stale (SP_ESTALE) while its
 * descriptor sits in a pool; once the memory is reused or returned to the
 * system, the pointer, like any freed pointer, must not be used.
 */
SP_API int sp_coro_destroy(sp_coro *co);

/* ------------------------------------------------------------------------ */
/* Runtime calls: a request record that crosses the switch                  */
/* ------------------------------------------------------------------------ */

/**
 * A runtime-call record. The coroutine fills op and args, calls
 * sp_coro_request, and is suspended; its resumer sees SP_CORO_REQUEST, reads
 * the record with sp_coro_pending, serves it on its own (OS thread) stack,
 * writes result (and value if the op returns one), and resumes the coroutine.
 * The record lives on the coroutine's stack, which does not move while it is
 * suspended, so nothing is allocated or copied.
 */
typedef struct sp_request {
    /** What is asked; the meaning of values >= 1 belongs to whoever serves it. */
    int32_t op;
    /** Set by the server: SP_OK or an SP_E* code, returned by sp_coro_request. */
    int32_t result;
    /** Operands, meaning per op. */
    uint64_t args[4];
    /** A value returned by the server, meaning per op. */
    int64_t value;
} sp_request;

/**
 * From inside a coroutine: posts req to the resumer and suspends until it
 * resumes this coroutine; returns req->result as the server left it.
 * Errors: SP_EINVAL (req NULL or req->op < 1), SP_ENOTGOROUTINE (outside a
 * coroutine).
 */
SP_API int sp_coro_request(sp_request *req);

/**
 * The request co posted, while sp_coro_resume's last result for it was
 * SP_CORO_REQUEST and it has not been resumed since; otherwise NULL.
 */
SP_API sp_request *sp_coro_pending(const sp_coro *co);

/* ------------------------------------------------------------------------ */
/* Introspection                                                            */
/* ------------------------------------------------------------------------ */

/** How a reserved stack's guard region is enforced. */
typedef enum sp_guard_mode {
    SP_GUARD_NONE = 0,          /**< not yet decided (no stack created) */
    SP_GUARD_MADVISE = 1,       /**< Linux MADV_GUARD_INSTALL: no extra mapping per stack */
    SP_GUARD_MPROTECT = 2,      /**< mprotect(PROT_NONE): one more mapping per stack, so
                                     about 32,000 stacks fit under vm.max_map_count=65530 */
    SP_GUARD_WINDOWS = 3        /**< VirtualAlloc reserve with PAGE_GUARD growth */
} sp_guard_mode;

/** The guard mechanism this process uses (decided on first use, then fixed). */
SP_API int sp_stack_guard_mode(void);

/** A static name for an sp_guard_mode value, e.g. "madvise-guard". */
SP_API const char *sp_stack_guard_mode_name(int mode);

/** The library version as "MAJOR.MINOR.PATCH". */
SP_API const char *sp_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SPINDLE_H */
