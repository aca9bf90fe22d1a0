/*
 * spindle.h - the public C API of libspindle.
 *
 * What a C program uses: errors, standalone stackful coroutines, and, inside
 * a goroutine of a running Spindle runtime, the goroutine calls (spawn,
 * yield, sleep, blocking sections, managed callbacks), channels, select,
 * timers, mutexes and wait groups. Every type a handle names is opaque. The
 * managed bindings (src/Spindle.Interop) are generated from this header; the
 * scheduler's side of the library has a header of its own (spindle_host.h),
 * which is not installed and carries no ABI promise.
 *
 * Conventions
 *   - Every function that can fail returns SP_OK (0) or a negative SP_E* code;
 *     sp_strerror() names it. Bad input gets an error code, never a crash.
 *   - Handles are opaque 64-bit values that name their kind and carry a
 *     generation: a released handle, or one of another kind, is refused,
 *     never taken for another object. Sizes are size_t, times nanoseconds.
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
    SP_EINVAL = -1,          /**< an argument is invalid (null pointer, bad size,
                                  a handle of another kind, ...) */
    SP_ENOMEM = -2,          /**< memory or address space could not be obtained */
    SP_ECLOSED = -3,         /**< the channel is closed */
    SP_ENOTGOROUTINE = -4,   /**< the call must be made from inside a coroutine/goroutine */
    SP_ESTACKOVERFLOW = -5,  /**< a stack limit was exceeded */
    SP_ECALLBACK = -6,       /**< a managed callback failed */
    SP_ESTALE = -7,          /**< the handle refers to an object that no longer exists */
    SP_ENOTSUP = -8,         /**< not supported on this platform or build */
    SP_ESTATE = -9,          /**< the object is in the wrong state for this call
                                  (e.g. resuming a finished or running coroutine) */
    SP_ENOTSPLIT = -10,      /**< a segmented stack was asked for a function whose
                                  module was not built with -fsplit-stack */
    SP_ECANCELED = -11       /**< the wait was cancelled before anything happened
                                  (managed callers: a CancellationToken) */
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
    /** Segmented when sp_stack_segmented_available() and the function's
        module was built with -fsplit-stack (sp_is_split_stack), otherwise
        reserved: code that does not check a stack limit never starts on a
        2 KiB segment. */
    SP_STACK_DEFAULT = 0,
    /** A reserved virtual range; pages are committed as they are touched,
        with a guard region below that turns an overflow into a fatal message. */
    SP_STACK_RESERVED = 1,
    /** 2 KiB segments that grow as deep as the code goes, for code built with
        -fsplit-stack and linked by spindle_add_goroutine_library (x86-64 Linux
        only). sp_coro_create gives SP_ENOTSUP where they are not available
        and SP_ENOTSPLIT for a function of a module built without
        -fsplit-stack. */
    SP_STACK_SEGMENTED = 2
} sp_stack_kind;

/** sp_coro_options.flags bits. */
enum {
    /** The coroutine is a goroutine of a Spindle runtime, which serves the
        SP_OP_* runtime calls it posts (sp_go, sp_sleep, ...). Set by the
        scheduler; a plain coroutine's runtime calls return SP_ENOTGOROUTINE. */
    SP_CORO_GOROUTINE = 1
};

/** Coroutine creation options. Zero-initialise, then set what you need. */
typedef struct sp_coro_options {
    /** An sp_stack_kind value; 0 is SP_STACK_DEFAULT. */
    int32_t kind;
    /** SP_CORO_* flag bits; 0 for a plain coroutine. */
    int32_t flags;
    /** Bytes committed when the coroutine is created (reserved stacks commit
        lazily on Linux and macOS, so this matters on Windows only); 0 means
        one page. Must not exceed max_stack. */
    size_t initial_stack;
    /** The most stack the coroutine may use; 0 means SP_DEFAULT_MAX_STACK
        for a reserved stack (rounded up to whole pages) and
        SP_DEFAULT_MAX_SEGMENTED for a segmented one (the bytes of all its
        segments; going past it ends the process with a message naming the
        coroutine, as Go's "goroutine stack exceeds limit"). Must lie within
        [SP_MIN_MAX_STACK, SP_MAX_MAX_STACK]. */
    size_t max_stack;
} sp_coro_options;

/** The default maximum stack of a coroutine: 256 KiB. */
#define SP_DEFAULT_MAX_STACK ((size_t)256 * 1024)
/** The smallest accepted max_stack: 8 KiB. */
#define SP_MIN_MAX_STACK ((size_t)8 * 1024)
/** The default maximum of a segmented stack: 1 GiB, Go's limit on 64-bit. */
#define SP_DEFAULT_MAX_SEGMENTED ((size_t)1024 * 1024 * 1024)
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
#if !defined(SPINDLE_SPLIT_STACK) /* split-stack code reaches it through the call table */
SP_API int sp_coro_yield(void);
#endif

/** The coroutine running on the calling thread, or NULL outside one. @trivial */
SP_API sp_coro *sp_coro_self(void);

/**
 * For a reserved stack, the high-water mark: the most bytes co has used since
 * it was created (deepest byte written, measured from the top of its stack);
 * it reads the stack, so it costs time in proportion to the stack's maximum
 * size. For a segmented stack, the bytes of the segments co holds now (those
 * in use and the one kept for reuse). Meant for sizing and diagnostics.
 * Returns 0 for NULL or a destroyed coroutine.
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

/** The kind of stack co runs on: SP_STACK_RESERVED or SP_STACK_SEGMENTED
    (what SP_STACK_DEFAULT resolved to); or SP_EINVAL (NULL), SP_ESTALE
    (destroyed). */
SP_API int sp_coro_stack_kind(const sp_coro *co);

/**
 * Runs fn(arg) on the calling thread's own stack and returns when it does.
 * Inside a coroutine on a segment this is the way to call code that needs
 * much stack and was not built with -fsplit-stack when the linker cannot see
 * the call (through a function pointer: the linker only adjusts direct
 * calls, giving them 16 KiB more room); split-stack code called from fn
 * does not grow segments while it runs. Outside a coroutine, when already
 * on the thread's stack, and where there are no segmented stacks (AArch64,
 * Windows, macOS), fn runs in place. fn must return normally (no longjmp
 * out of it) and must not switch coroutines (no yield or goroutine runtime
 * call). Errors: SP_EINVAL (fn NULL).
 */
#if !defined(SPINDLE_SPLIT_STACK) /* split-stack code reaches it through the call table */
SP_API int sp_systemstack(sp_fn fn, void *arg);
#endif

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

#if !defined(SPINDLE_SPLIT_STACK) /* split-stack code reaches it through the call table */
/**
 * From inside a coroutine: posts req to the resumer and suspends until it
 * resumes this coroutine; returns req->result as the server left it.
 * Errors: SP_EINVAL (req NULL or req->op < 1), SP_ENOTGOROUTINE (outside a
 * coroutine).
 */
SP_API int sp_coro_request(sp_request *req);
#endif

/**
 * The request co posted, while sp_coro_resume's last result for it was
 * SP_CORO_REQUEST and it has not been resumed since; otherwise NULL. @trivial
 */
SP_API sp_request *sp_coro_pending(const sp_coro *co);

/* ------------------------------------------------------------------------ */
/* Goroutines, channels, select, timers, mutexes and wait groups            */
/* ------------------------------------------------------------------------ */

/*
 * The calls below are for goroutines of a running Spindle runtime; anywhere
 * else they return SP_ENOTGOROUTINE and do nothing. A goroutine that runs in
 * its processor's run loop completes or parks in each of them without
 * leaving native code (no runtime call); the runtime's scheduler is asked
 * only where it must be (a blocking section, a managed callback).
 *
 * Channels follow Go's rules: elements are plain bytes, copied once from the
 * sender's memory to the receiver's (straight across when one side is
 * parked). One channel connects native goroutines, managed goroutines and
 * plain threads: C# names the same object through its handle
 * (Spindle.Chan<T>.FromHandle).
 *
 * Ownership: who makes an object releases it. An object a goroutine makes
 * (sp_chan_make, sp_after, sp_ticker_make, sp_mutex_make, sp_wg_make) lives
 * until it is released with its sp_*_release, or until the runtime that
 * made it stops (as a Go program's exit frees everything). An object C#
 * made lives as long as its C# object; its handle is valid meanwhile.
 */

/** A channel handle; 0 is the nil channel, on which every send and receive
    blocks forever (and which a select never chooses). */
typedef uint64_t sp_chan;
/** A mutex handle; 0 is never a valid one. */
typedef uint64_t sp_mutex;
/** A wait group handle; 0 is never a valid one. */
typedef uint64_t sp_wg;

/** The largest element a channel carries, in bytes (Go's limit: below 64 KiB). */
enum { SP_CHAN_MAX_ELEM = 65535 };

/** Directions of an sp_case. */
enum { SP_SEND = 1, SP_RECV = 2 };

/** One case of sp_select. */
typedef struct sp_case {
    /** The channel; 0 (nil) makes the case never ready. */
    sp_chan ch;
    /** SP_SEND or SP_RECV. */
    int dir;
    /** The element to send, or where to receive (NULL discards). */
    void *elem;
    /** For a receive: set to false when the channel was closed; may be NULL. */
    bool *ok;
} sp_case;

/** The most cases one select takes (Go's limit). */
enum { SP_SELECT_MAX_CASES = 65536 };

/** The longest wait a timer takes: about 292 years of nanoseconds. */
#define SP_MAX_DURATION INT64_MAX

#if !defined(SPINDLE_SPLIT_STACK) /* split-stack code reaches these through the call table */

/** Starts fn(arg) as a new goroutine. Errors: SP_EINVAL (fn NULL),
    SP_ENOMEM, SP_ENOTGOROUTINE. */
SP_API int sp_go(sp_fn fn, void *arg);

/** Lets other goroutines run; this one is runnable again at once, like Go's
    runtime.Gosched. */
SP_API int sp_gosched(void);

/** Parks the goroutine for at least nanoseconds (<= 0: just yields).
    Sleepers wake in deadline order, never early. */
SP_API int sp_sleep(int64_t nanoseconds);

/** Marks the start of a call that may block its OS thread (a read, a lock,
    a sleep): the goroutine's processor is handed to another worker meanwhile
    so the other goroutines keep running. Pair with sp_block_exit. Errors:
    SP_ESTATE (already inside a blocking section), SP_ENOTGOROUTINE. */
SP_API int sp_block_enter(void);

/** Ends a blocking section: the goroutine waits for a processor before it
    continues. Errors: SP_ESTATE (not inside a blocking section),
    SP_ENOTGOROUTINE. */
SP_API int sp_block_exit(void);

/** Runs the managed callback registered under callback_id with arg, on the
    worker's OS stack, and stores its result in *result (result may be NULL).
    Errors: SP_EINVAL (no such callback), SP_ECALLBACK (the callback threw:
    the worker keeps running), SP_ENOTGOROUTINE. */
SP_API int sp_call(int32_t callback_id, void *arg, int64_t *result);

/** Makes a channel of elements of elem_size bytes (0 for a signal channel,
    Go's chan struct{}) with room for capacity elements (0: unbuffered).
    Errors: SP_EINVAL (out NULL, elem_size above SP_CHAN_MAX_ELEM, capacity
    above INT32_MAX or a buffer above 2 GiB), SP_ENOMEM, SP_ENOTGOROUTINE. */
SP_API int sp_chan_make(sp_chan *out, size_t elem_size, size_t capacity);

/** Sends the element at elem (elem_size bytes; may be NULL when that is 0).
    Blocks until a receiver takes it (unbuffered) or there is room in the
    buffer. Errors: SP_ECLOSED (the channel is or becomes closed: the value is
    not sent), SP_EINVAL (elem NULL, a handle that is not a channel's),
    SP_ESTALE (released, or released while waiting), SP_ENOTGOROUTINE. */
SP_API int sp_chan_send(sp_chan ch, const void *elem);

/** Receives into elem (may be NULL to discard). From a closed channel the
    buffer drains first; then elem is zeroed and *ok is false. ok may be
    NULL. Errors: SP_EINVAL (a handle that is not a channel's), SP_ESTALE,
    SP_ENOTGOROUTINE. */
SP_API int sp_chan_recv(sp_chan ch, void *elem, bool *ok);

/** Closes the channel: parked receivers get the zero value and ok = false,
    parked senders get SP_ECLOSED. Errors: SP_ECLOSED (already closed),
    SP_EINVAL (the nil channel, a handle that is not a channel's), SP_ESTALE,
    SP_ENOTGOROUTINE. */
SP_API int sp_chan_close(sp_chan ch);

/** The number of elements buffered (0 for the nil channel), or an error. */
SP_API int sp_chan_len(sp_chan ch);

/** The capacity (0 for the nil channel), or an error. */
SP_API int sp_chan_cap(sp_chan ch);

/** Releases the channel: its buffer and, for a timer or ticker channel, its
    timer are freed at once, and later use of the handle gives SP_ESTALE.
    Buffered elements are dropped. Errors: SP_ESTATE (goroutines or threads
    are parked on it: nothing is released), SP_EINVAL (the nil channel, a
    handle that is not a channel's, a channel C# made: it is the C#
    object's), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_chan_release(sp_chan ch);

/** Waits until one of the cases can proceed and performs it; among several
    ready cases the choice is uniformly random. Returns the index of the
    case performed, or ncases when has_default is true and none was ready.
    With ncases 0 and no default it blocks forever (Go's select {}). Errors:
    SP_EINVAL (cases NULL with ncases > 0, ncases negative or above
    SP_SELECT_MAX_CASES, a direction that is neither SP_SEND nor SP_RECV, a
    send with elem NULL, a handle that is not a channel's), SP_ECLOSED (the
    case chosen was a send on a closed channel), SP_ESTALE (a released
    handle), SP_ENOTGOROUTINE. */
SP_API int sp_select(sp_case *cases, int ncases, bool has_default);

/** Makes a channel (capacity 1, int64_t elements) that receives the
    monotonic time in nanoseconds once, at least nanoseconds from now: Go's
    time.After (nanoseconds <= 0: at once). Releasing it stops its timer.
    Errors: SP_EINVAL (out NULL), SP_ENOMEM, SP_ENOTGOROUTINE. */
SP_API int sp_after(sp_chan *out, int64_t nanoseconds);

/** Makes a ticker channel (capacity 1, int64_t elements) that receives the
    monotonic time in nanoseconds every period_ns; ticks a slow reader misses
    are dropped, as in Go. sp_ticker_stop stops it; releasing it stops it
    too. Errors: SP_EINVAL (out NULL, period_ns <= 0), SP_ENOMEM,
    SP_ENOTGOROUTINE. */
SP_API int sp_ticker_make(sp_chan *out, int64_t period_ns);

/** Stops a ticker: no tick is sent after it returns (stopping it again does
    nothing). Errors: SP_EINVAL (0, or a channel that is not a ticker),
    SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_ticker_stop(sp_chan ticker);

/** Makes an unlocked mutex (Go's sync.Mutex: not owned, any goroutine may
    unlock it; waiters get it in arrival order). Errors: SP_EINVAL (out
    NULL), SP_ENOMEM, SP_ENOTGOROUTINE. */
SP_API int sp_mutex_make(sp_mutex *out);
/** Locks the mutex, parking the goroutine until it is free. Errors:
    SP_EINVAL (a handle that is not a mutex's), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_mutex_lock(sp_mutex m);
/** Unlocks it, handing it to the longest waiter if any. Errors: SP_ESTATE
    (it is not locked), SP_EINVAL, SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_mutex_unlock(sp_mutex m);
/** Releases the mutex. Errors: SP_ESTATE (locked, or goroutines wait on
    it), SP_EINVAL (a handle that is not a mutex's, or one C# made),
    SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_mutex_release(sp_mutex m);

/** Makes a wait group with a zero counter. Errors: SP_EINVAL (out NULL),
    SP_ENOMEM, SP_ENOTGOROUTINE. */
SP_API int sp_wg_make(sp_wg *out);
/** Adds delta (may be negative) to the counter; waiters wake when it reaches
    zero. Errors: SP_EINVAL (the counter would go negative: it is left as it
    was; a handle that is not a wait group's), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_wg_add(sp_wg wg, int delta);
/** sp_wg_add(wg, -1). */
SP_API int sp_wg_done(sp_wg wg);
/** Parks until the counter is zero (returns at once if it is). Errors:
    SP_EINVAL, SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_wg_wait(sp_wg wg);
/** Releases the wait group; later use gives SP_ESTALE. Errors: SP_ESTATE
    (goroutines are waiting on it), SP_EINVAL (a handle that is not a wait
    group's, or one C# made), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_wg_release(sp_wg wg);

#endif /* !SPINDLE_SPLIT_STACK */

/** A program for `spindle run LIB` exports its main goroutine as
    `void spindle_main(void *arg)`; Spindle itself does not define it. */

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

/**
 * Moves every signal handler installed in the process without SA_ONSTACK (the
 * .NET runtime's, a library's) off goroutine stacks: a signal arriving while a
 * goroutine runs on a 2 KiB segment would otherwise put the kernel's signal
 * frame (up to 12 KiB) on the segment. Each such handler is wrapped and
 * re-installed with SA_ONSTACK: on a thread that runs coroutines (each gets an
 * alternate signal stack of at least 64 KiB) it runs on that stack; on any
 * other thread it runs on the interrupted stack, as it did before, so handlers
 * never written for small alternate stacks (.NET's) keep working. Handlers
 * installed later are not changed: call it again, or install them with
 * SA_ONSTACK. The managed runtime calls it when a runtime starts. Returns how
 * many handlers it changed; 0 where stacks are not segmented (nothing to do).
 */
SP_API int sp_signal_handlers_onstack(void);

/** 1 when this build runs coroutines on segmented stacks (x86-64 Linux,
    not an ASan build), else 0: then every stack is reserved. */
SP_API int sp_stack_segmented_available(void);

/** 1 when fn may start on a segmented stack: its module was built with
    -fsplit-stack and linked with Spindle's __morestack (sp_split_stack_status
    gives SP_SPLIT_SPINDLE), else 0. */
SP_API int sp_is_split_stack(sp_fn fn);

/** How a module was built, as far as segmented stacks go. Only
    SP_SPLIT_SPINDLE code starts on a segment; the other kinds run on
    reserved stacks, and the value says why. */
typedef enum sp_split_status {
    SP_SPLIT_NONE = 0,          /**< not built with -fsplit-stack (or this build has no
                                     segmented stacks) */
    SP_SPLIT_SPINDLE = 1,       /**< built with -fsplit-stack, linked by gold or lld with
                                     Spindle's __morestack (spindle_add_goroutine_library,
                                     pkg-config spindle-goroutine) */
    SP_SPLIT_FOREIGN_MORESTACK = 2, /**< built with -fsplit-stack, but the __morestack
                                     linked in is not Spindle's (libgcc's, when Spindle's
                                     archive is not on the link line): on a segment its
                                     prologues would grow the stack behind Spindle's back */
    SP_SPLIT_GNU_LD = 3         /**< built with -fsplit-stack and Spindle's __morestack,
                                     but linked by GNU ld (bfd), which gives calls into code
                                     that is not split-stack (libc) no extra room */
} sp_split_status;

/** The stack below a segment's limit that code not built with -fsplit-stack
    may use when split-stack goroutine code calls it through a function
    pointer (the linker gives such calls no extra room): the frames the
    compilers allow below the limit (up to 256 bytes) and libspindle's own
    goroutine calls take their share of it. Deeper code must be called through
    sp_systemstack. */
enum { SP_SEGMENT_RESERVE = 1024 };

/** The sp_split_status of fn's module, read once per module from its file
    (its .note.GNU-split-stack section, the marker section Spindle's
    __morestack object adds, and, when neither is there, a __morestack in its
    symbol table); SP_SPLIT_NONE for NULL and where stacks are not segmented. */
SP_API int sp_split_stack_status(sp_fn fn);

/** The library version as "MAJOR.MINOR.PATCH". */
SP_API const char *sp_version(void);

/* ------------------------------------------------------------------------ */
/* Goroutine code built with -fsplit-stack                                  */
/* ------------------------------------------------------------------------ */

/*
 * gold and lld turn every direct call from split-stack code into another
 * shared object into a call to code that is not split-stack, and give its
 * caller 16 KiB more stack for it; a goroutine parked in sp_chan_recv would
 * then hold a 16 KiB segment instead of 2 KiB. So in code compiled with
 * SPINDLE_SPLIT_STACK defined (spindle_add_goroutine_library defines it),
 * the goroutine calls keep their names but are inline functions that reach
 * libspindle through this table, which the linker leaves alone. Their stack
 * use in libspindle fits the reserve below every segment's limit.
 *
 * SP_GOROUTINE_CALLS is the one list of those calls: X(return type, name,
 * parameters, arguments) for each.
 */
#define SP_GOROUTINE_CALLS(X)                                                       \
    X(int, sp_go, (sp_fn fn, void *arg), (fn, arg))                                 \
    X(int, sp_gosched, (void), ())                                                  \
    X(int, sp_sleep, (int64_t nanoseconds), (nanoseconds))                          \
    X(int, sp_block_enter, (void), ())                                              \
    X(int, sp_block_exit, (void), ())                                               \
    X(int, sp_call, (int32_t callback_id, void *arg, int64_t *result), (callback_id, arg, result)) \
    X(int, sp_chan_make, (sp_chan *out, size_t elem_size, size_t capacity), (out, elem_size, capacity)) \
    X(int, sp_chan_send, (sp_chan ch, const void *elem), (ch, elem))                \
    X(int, sp_chan_recv, (sp_chan ch, void *elem, bool *ok), (ch, elem, ok))        \
    X(int, sp_chan_close, (sp_chan ch), (ch))                                       \
    X(int, sp_chan_len, (sp_chan ch), (ch))                                         \
    X(int, sp_chan_cap, (sp_chan ch), (ch))                                         \
    X(int, sp_chan_release, (sp_chan ch), (ch))                                     \
    X(int, sp_select, (sp_case *cases, int ncases, bool has_default), (cases, ncases, has_default)) \
    X(int, sp_after, (sp_chan *out, int64_t nanoseconds), (out, nanoseconds))       \
    X(int, sp_ticker_make, (sp_chan *out, int64_t period_ns), (out, period_ns))     \
    X(int, sp_ticker_stop, (sp_chan ticker), (ticker))                              \
    X(int, sp_mutex_make, (sp_mutex *out), (out))                                   \
    X(int, sp_mutex_lock, (sp_mutex m), (m))                                        \
    X(int, sp_mutex_unlock, (sp_mutex m), (m))                                      \
    X(int, sp_mutex_release, (sp_mutex m), (m))                                     \
    X(int, sp_wg_make, (sp_wg *out), (out))                                         \
    X(int, sp_wg_add, (sp_wg wg, int delta), (wg, delta))                           \
    X(int, sp_wg_done, (sp_wg wg), (wg))                                            \
    X(int, sp_wg_wait, (sp_wg wg), (wg))                                            \
    X(int, sp_wg_release, (sp_wg wg), (wg))                                         \
    X(int, sp_coro_yield, (void), ())                                               \
    X(int, sp_coro_request, (sp_request *req), (req))                               \
    X(int, sp_systemstack, (sp_fn fn, void *arg), (fn, arg))

#if defined(SPINDLE_SPLIT_STACK) || defined(SPINDLE_BUILDING)
#define SP_CALL_FIELD_(ret, name, params, args) ret(*name) params;
/** The goroutine-facing calls, one field per function of the same name. */
typedef struct sp_goroutine_calls {
    SP_GOROUTINE_CALLS(SP_CALL_FIELD_)
} sp_goroutine_calls;
#undef SP_CALL_FIELD_

/** The table libspindle fills; read-only. */
SP_API extern const sp_goroutine_calls sp_goroutine_call_table;
#endif

#if defined(SPINDLE_SPLIT_STACK)
#define SP_CALL_VIA_TABLE_(ret, name, params, args) \
    static inline ret name params { return sp_goroutine_call_table.name args; }
SP_GOROUTINE_CALLS(SP_CALL_VIA_TABLE_)
#undef SP_CALL_VIA_TABLE_
#endif

#ifdef __cplusplus
}
#endif

#endif /* SPINDLE_H */
