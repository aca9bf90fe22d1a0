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
 *     This is the mechanism the Spindle scheduler is built on (DESIGN.md s.3);
 *   - the goroutine-facing runtime calls of a running Spindle runtime: spawn,
 *     yield, sleep, blocking sections, managed callbacks, wait groups,
 *     channels, select, timer channels and mutexes.
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
    SP_ESTATE = -9,          /**< the object is in the wrong state for this call
                                  (e.g. resuming a finished or running coroutine) */
    SP_ENOTSPLIT = -10       /**< a segmented stack was asked for a function whose
                                  module was not built with -fsplit-stack */
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
SP_API int sp_coro_yield(void);

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
SP_API int sp_systemstack(sp_fn fn, void *arg);

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
 * SP_CORO_REQUEST and it has not been resumed since; otherwise NULL. @trivial
 */
SP_API sp_request *sp_coro_pending(const sp_coro *co);

/* ------------------------------------------------------------------------ */
/* Goroutine runtime calls                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Inside a goroutine of a running Spindle runtime, each call below posts a
 * runtime call (an sp_request with one of these op codes) and parks until the
 * scheduler, on its worker's OS stack, has served it. Anywhere else they
 * return SP_ENOTGOROUTINE and do nothing.
 */

/** Runtime-call op codes (sp_request.op) of the goroutine-facing calls. */
enum {
    SP_OP_GO = 1,            /**< args[0] fn, args[1] arg */
    SP_OP_GOSCHED = 2,
    SP_OP_SLEEP = 3,         /**< args[0] nanoseconds (int64) */
    SP_OP_BLOCK_ENTER = 4,
    SP_OP_BLOCK_EXIT = 5,
    SP_OP_CALL = 6,          /**< args[0] callback id, args[1] arg; value = result */
    SP_OP_WG_MAKE = 7,       /**< value = the new handle */
    SP_OP_WG_ADD = 8,        /**< args[0] handle, args[1] delta (int64) */
    SP_OP_WG_WAIT = 9,       /**< args[0] handle */
    SP_OP_WG_RELEASE = 10,   /**< args[0] handle */
    SP_OP_CHAN_MAKE = 11,    /**< args[0] element size, args[1] capacity; value = handle */
    SP_OP_CHAN_SEND = 12,    /**< args[0] handle, args[1] element address */
    SP_OP_CHAN_RECV = 13,    /**< args[0] handle, args[1] element address; value = ok */
    SP_OP_CHAN_CLOSE = 14,   /**< args[0] handle */
    SP_OP_CHAN_LEN = 15,     /**< args[0] handle; value = length */
    SP_OP_CHAN_CAP = 16,     /**< args[0] handle; value = capacity */
    SP_OP_CHAN_RELEASE = 17, /**< args[0] handle */
    SP_OP_SELECT = 18,       /**< args[0] cases, args[1] count, args[2] has_default;
                                  value = the index chosen */
    SP_OP_AFTER = 19,        /**< args[0] nanoseconds; value = handle */
    SP_OP_TICKER_MAKE = 20,  /**< args[0] period in nanoseconds; value = handle */
    SP_OP_TICKER_STOP = 21,  /**< args[0] handle */
    SP_OP_MUTEX_MAKE = 22,   /**< value = handle */
    SP_OP_MUTEX_LOCK = 23,   /**< args[0] handle */
    SP_OP_MUTEX_UNLOCK = 24, /**< args[0] handle */
    SP_OP_MUTEX_RELEASE = 25 /**< args[0] handle */
};

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

/** A wait group handle; 0 is never a valid one. */
typedef uint64_t sp_wg;

/** Makes a wait group with a zero counter. Errors: SP_EINVAL (out NULL),
    SP_ENOTGOROUTINE. */
SP_API int sp_wg_make(sp_wg *out);
/** Adds delta (may be negative) to the counter; waiters wake when it reaches
    zero. Errors: SP_EINVAL (the counter would go negative: it is left as it
    was), SP_ESTALE (released or unknown handle), SP_ENOTGOROUTINE. */
SP_API int sp_wg_add(sp_wg wg, int delta);
/** sp_wg_add(wg, -1). */
SP_API int sp_wg_done(sp_wg wg);
/** Parks until the counter is zero (returns at once if it is). Errors:
    SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_wg_wait(sp_wg wg);
/** Releases the handle; later use gives SP_ESTALE. Errors: SP_ESTALE,
    SP_ESTATE (goroutines are waiting on it), SP_ENOTGOROUTINE. */
SP_API int sp_wg_release(sp_wg wg);

/* ------------------------------------------------------------------------ */
/* Channels, select, timers and mutexes (Go's semantics)                    */
/* ------------------------------------------------------------------------ */

/*
 * Like the calls above, these are runtime calls: inside a goroutine of a
 * running runtime, else SP_ENOTGOROUTINE. Elements are plain bytes, copied
 * from the sender's memory to the receiver's (straight across when a
 * receiver is parked). A handle made here can be handed to C# code
 * (Spindle.Chan<T>.FromHandle), so one channel connects native goroutines,
 * managed goroutines and plain threads. Handles carry a generation: a
 * released one gives SP_ESTALE, never another object.
 */

/** A channel handle; 0 is the nil channel, on which every send and receive
    blocks forever (and which a select never chooses). */
typedef uint64_t sp_chan;

/** The largest element a channel carries, in bytes (Go's limit: below 64 KiB). */
enum { SP_CHAN_MAX_ELEM = 65535 };

/** Makes a channel of elements of elem_size bytes (0 for a signal channel,
    Go's chan struct{}) with room for capacity elements (0: unbuffered).
    Errors: SP_EINVAL (out NULL, elem_size above SP_CHAN_MAX_ELEM, capacity
    above INT32_MAX or a buffer above 2 GiB), SP_ENOMEM, SP_ENOTGOROUTINE. */
SP_API int sp_chan_make(sp_chan *out, size_t elem_size, size_t capacity);

/** Sends the element at elem (elem_size bytes; may be NULL when that is 0).
    Blocks until a receiver takes it (unbuffered) or there is room in the
    buffer. Errors: SP_ECLOSED (the channel is or becomes closed: the value is
    not sent), SP_EINVAL (elem NULL), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_chan_send(sp_chan ch, const void *elem);

/** Receives into elem (may be NULL to discard). From a closed channel the
    buffer drains first; then elem is zeroed and *ok is false. ok may be
    NULL. Errors: SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_chan_recv(sp_chan ch, void *elem, bool *ok);

/** Closes the channel: parked receivers get the zero value and ok = false,
    parked senders get SP_ECLOSED. Errors: SP_ECLOSED (already closed),
    SP_EINVAL (the nil channel), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_chan_close(sp_chan ch);

/** The number of elements buffered (0 for the nil channel), or an error. */
SP_API int sp_chan_len(sp_chan ch);

/** The capacity (0 for the nil channel), or an error. */
SP_API int sp_chan_cap(sp_chan ch);

/** Releases the handle; later use gives SP_ESTALE. Buffered elements are
    dropped. Errors: SP_ESTATE (goroutines or threads are parked on it),
    SP_EINVAL (the nil channel), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_chan_release(sp_chan ch);

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

/** Waits until one of the cases can proceed and performs it; among several
    ready cases the choice is uniformly random. Returns the index of the
    case performed, or ncases when has_default is true and none was ready.
    With ncases 0 and no default it blocks forever (Go's select {}). Errors:
    SP_EINVAL (cases NULL with ncases > 0, ncases negative or above
    SP_SELECT_MAX_CASES, a direction that is neither SP_SEND nor SP_RECV, a
    send with elem NULL), SP_ECLOSED (the case chosen was a send on a closed
    channel), SP_ESTALE (a released handle), SP_ENOTGOROUTINE. */
SP_API int sp_select(sp_case *cases, int ncases, bool has_default);

/** Makes a channel (capacity 1, int64_t elements) that receives the
    monotonic time in nanoseconds once, at least nanoseconds from now: Go's
    time.After. Release it with sp_chan_release when done. Errors: SP_EINVAL
    (out NULL), SP_ENOTGOROUTINE. */
SP_API int sp_after(sp_chan *out, int64_t nanoseconds);

/** Makes a ticker channel (capacity 1, int64_t elements) that receives the
    monotonic time in nanoseconds every period_ns; ticks a slow reader misses
    are dropped, as in Go. Stop it with sp_ticker_stop, then release it.
    Errors: SP_EINVAL (out NULL, period_ns <= 0), SP_ENOTGOROUTINE. */
SP_API int sp_ticker_make(sp_chan *out, int64_t period_ns);

/** Stops a ticker: no tick is sent after it returns. Errors: SP_EINVAL (not
    a ticker), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_ticker_stop(sp_chan ticker);

/** A mutex handle; 0 is never a valid one. */
typedef uint64_t sp_mutex;

/** Makes an unlocked mutex (Go's sync.Mutex: not owned, any goroutine may
    unlock it; waiters get it in arrival order). Errors: SP_EINVAL (out
    NULL), SP_ENOTGOROUTINE. */
SP_API int sp_mutex_make(sp_mutex *out);
/** Locks the mutex, parking the goroutine until it is free. Errors:
    SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_mutex_lock(sp_mutex m);
/** Unlocks it, handing it to the longest waiter if any. Errors: SP_ESTATE
    (it is not locked), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_mutex_unlock(sp_mutex m);
/** Releases the handle. Errors: SP_ESTATE (locked, or goroutines wait on
    it), SP_ESTALE, SP_ENOTGOROUTINE. */
SP_API int sp_mutex_release(sp_mutex m);

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

/** The sp_split_status of fn's module, read once per module from its file
    (its .note.GNU-split-stack section, the marker section Spindle's
    __morestack object adds, and, when neither is there, a __morestack in its
    symbol table); SP_SPLIT_NONE for NULL and where stacks are not segmented. */
SP_API int sp_split_stack_status(sp_fn fn);

/** The library version as "MAJOR.MINOR.PATCH". */
SP_API const char *sp_version(void);

/* ------------------------------------------------------------------------ */
/* Run queues and the run loop: the scheduler's native half                 */
/* ------------------------------------------------------------------------ */

/*
 * The managed scheduler keeps each processor's (P's) local run queue here, in
 * native memory, so that a goroutine that yields can be switched for the next
 * one without a trip through managed code: sp_runq_run resumes goroutines from
 * the queue itself while they only yield, and returns to its caller for
 * everything else. A run queue is Go's runq: a ring of SP_RUNQ_CAPACITY
 * entries that only its owner (the thread holding the P) appends to, while
 * other threads may steal half of it, plus a runnext slot. C programs that
 * use the runtime through spindle.h's goroutine calls need none of this.
 */

/** Slots in a run queue's ring (runnext not counted). */
#define SP_RUNQ_CAPACITY 256

/** The states sp_runq_run writes into sp_g.state (the managed scheduler's
    GoroutineState uses the same numbers). */
enum {
    SP_G_RUNNABLE = 0, /**< in a run queue */
    SP_G_RUNNING = 1,  /**< being resumed */
    SP_G_WAITING = 2,  /**< parked until something readies it */
    /** A record that holds no goroutine (finished, free, or never used); 3
        is the scheduler's own (a blocking section). */
    SP_G_DEAD = 4
};

/** The wait reasons libspindle writes into sp_g.wait_reason (the managed
    scheduler's WaitReason uses the same numbers). */
enum {
    SP_WAIT_CHAN_SEND = 3,
    SP_WAIT_CHAN_RECV = 4
};

/** The processor status word (sp_runq_status): (generation << 8) | state.
    The states the run loop reads or writes; the scheduler defines others. */
enum {
    SP_P_OWNED = 1,        /**< held by a worker, not inside a resume */
    SP_P_IN_GOROUTINE = 2  /**< held by a worker that is resuming a goroutine */
};

/** What sp_runq_run hands back in sp_run_result.status besides a resume's
    own result (SP_CORO_SUSPENDED, SP_CORO_REQUEST, SP_CORO_DONE, SP_E*). */
enum {
    /** The goroutine yielded and went back to the queue; the next one is not
        the loop's to resume (a managed goroutine, one with hold set, or none):
        sp_run_result.g is NULL and the caller finds the next one itself. */
    SP_RUN_REQUEUED = 16,
    /** The goroutine parked in a channel operation libspindle served itself
        (its state SP_G_WAITING); sp_run_result.g is NULL and the caller finds
        the next goroutine itself. */
    SP_RUN_PARKED = 17,
    /** The goroutine finished and the loop freed its record itself (see
        sp_runq_attach); sp_run_result.g is NULL and the caller finds the next
        goroutine itself. */
    SP_RUN_EXITED = 18
};

/** sp_g.flags. */
enum {
    /** A managed goroutine (an async method): the run loop never resumes it. */
    SP_G_MANAGED = 1,
    /** Its exit must go back to the scheduler (the main goroutine): the run
        loop does not finish it by itself. */
    SP_G_EXIT_TO_SCHEDULER = 2,
    /** Set by sp_g_init_native: its coroutine gets a segmented stack (the
        kind is resolved when it is started, and used when it first runs). */
    SP_G_SEGMENTED = 4
};

/**
 * A goroutine as the run queues hold it. Records are made and reused by an
 * sp_sched (sp_sched_new_g), which owns their memory; the slot numbers them
 * in the order they were made.
 */
typedef struct sp_g {
    /** A native goroutine's coroutine: NULL for a managed goroutine, and for a
        native one that has not run yet (fn and arg say what it will run; its
        stack is taken when it first runs, from the cache its worker's last
        finished goroutine went back to). */
    sp_coro *coro;
    /** The record's number in its sp_sched, from 0 (sp_sched_record). */
    int64_t slot;
    /** Nonzero when the scheduler must see this goroutine before it runs again
        (a runtime call left pending, a blocking section): the run loop then
        leaves it in the queue for its caller. */
    int32_t hold;
    /** SP_G_RUNNABLE, SP_G_RUNNING, SP_G_WAITING or SP_G_DEAD as libspindle
        last set it; the scheduler writes its own states here too. */
    int32_t state;
    /** While waiting: why (SP_WAIT_*, the scheduler's codes otherwise). */
    int32_t wait_reason;
    /** SP_G_MANAGED, SP_G_EXIT_TO_SCHEDULER. */
    int32_t flags;
    /** While parked in a channel operation of libspindle's own: its waiter,
        for the scheduler to take out of the queue when it discards the
        goroutine. */
    struct sp_chan_waiter *parked_on;
    /** The goroutine's id: 1, 2, ... in its sp_sched, never reused. */
    int64_t id;
    /** When it entered its state, in sp_clock_ms() milliseconds. */
    int64_t since_ms;
    /** A native goroutine that has not run yet: what it will run. */
    sp_fn fn;
    void *arg;
} sp_g;

/** A processor's local run queue (opaque). */
typedef struct sp_runq sp_runq;

/** What sp_runq_run stopped at. */
typedef struct sp_run_result {
    /** The goroutine that status is about (NULL with SP_RUN_REQUEUED and
        SP_RUN_PARKED). */
    sp_g *g;
    /** Its resume's result (SP_CORO_SUSPENDED, SP_CORO_REQUEST, SP_CORO_DONE,
        or an SP_E* code), SP_RUN_REQUEUED or SP_RUN_PARKED. */
    int32_t status;
    /** 1 when the status word was no longer the one the resume entered with:
        another thread (the scheduler's monitor) took the P meanwhile, and
        the caller holds it no more. */
    int32_t lost;
    /** Goroutines the loop switched to by itself, after the first. */
    int64_t switches;
} sp_run_result;

/** Makes an empty run queue whose status word is 0. Errors: SP_EINVAL
    (out NULL), SP_ENOMEM. */
SP_API int sp_runq_create(sp_runq **out);

/** Frees q; it must no longer be used by any thread, nor its sp_sched (if it
    is attached to one) any more: destroy them together. SP_EINVAL for NULL. */
SP_API int sp_runq_destroy(sp_runq *q);

/** The processor status word that goes with q, for the scheduler's atomic
    operations on it; NULL for a NULL q. @trivial */
SP_API int64_t *sp_runq_status(sp_runq *q);

/** How many goroutines sp_runq_run has switched to by itself on q, ever (a
    monitor that sees it change knows no goroutine has held the P since its
    last look). 0 for NULL. @trivial */
SP_API uint64_t sp_runq_switches(const sp_runq *q);

/** 1 while the run loop works on q between two goroutines with the status
    word at SP_P_IN_GOROUTINE. Whoever takes the P from the loop's thread
    (a CAS of the status word) must then issue a process-wide memory barrier
    (membarrier; .NET's Interlocked.MemoryBarrierProcessWide) and wait until
    this is 0 before anyone else uses q. 0 for NULL. @trivial */
SP_API int sp_runq_busy(const sp_runq *q);

/**
 * Adds g to q (owner only). With next, g takes the runnext slot and the
 * goroutine it displaces goes to the tail of the ring. Returns NULL when
 * queued, or the goroutine that did not fit (g, or the displaced one) when the
 * ring is full: the caller moves it elsewhere, with half of the ring
 * (sp_runq_take_half). A new runnext goroutine is never handed back: a thief
 * may already have taken it. A NULL q or g is ignored (NULL). @trivial
 */
SP_API sp_g *sp_runq_put(sp_runq *q, sp_g *g, bool next);

/** Takes the next goroutine, runnext first (owner only); NULL when empty.
    @trivial */
SP_API sp_g *sp_runq_get(sp_runq *q);

/**
 * Moves half of victim's ring into q (q's owner only, q's ring empty) and
 * returns one of the stolen goroutines to run now; with nothing in the
 * victim's ring, takes its runnext goroutine instead. NULL when there was
 * nothing to take. @trivial
 */
SP_API sp_g *sp_runq_steal(sp_runq *q, sp_runq *victim);

/** sp_runq_steal, taking the victim's runnext goroutine only when take_next
    is true. A thief passes false until its last attempt, as Go's stealWork
    does: the owner is about to run its runnext goroutine, or to queue it in
    the ring behind the next one it readies, where it can be stolen with
    others instead of one at a time. @trivial */
SP_API sp_g *sp_runq_steal_from(sp_runq *q, sp_runq *victim, bool take_next);

/**
 * Takes half of q's ring, oldest first, into out (at most capacity entries)
 * for the global queue (owner only); returns how many, 0 for bad arguments.
 * @trivial
 */
SP_API int sp_runq_take_half(sp_runq *q, sp_g **out, int capacity);

/** Whether q holds nothing, runnext included (a snapshot). true for NULL.
    @trivial */
SP_API bool sp_runq_empty(const sp_runq *q);

/**
 * The run loop (owner only). The caller holds the P, has set the status word
 * to entered (its generation with SP_P_IN_GOROUTINE, or another state) and
 * resumes g, a native goroutine. While the entered state is
 * SP_P_IN_GOROUTINE and budget is left, a goroutine that yielded (sp_gosched,
 * or a bare sp_coro_yield) goes to the tail of the ring, and the loop resumes
 * the next one itself when it is a native goroutine without hold (its state
 * SP_G_RUNNING, the status word left at entered), counting one from budget;
 * otherwise it stops with SP_RUN_REQUEUED. A goroutine that parks in a
 * channel operation libspindle serves itself (see sp_chan_state) is left in
 * the channel's queue, and the loop goes on the same way, or stops with
 * SP_RUN_PARKED. Yields and parks go straight from one goroutine to the next
 * when they can, so the goroutine that comes back may not be g. On a queue
 * attached to an sp_sched, a goroutine that finishes (without
 * SP_G_EXIT_TO_SCHEDULER) is freed by the loop, which goes on the same way or
 * stops with SP_RUN_EXITED, and a goroutine that has not run yet gets its
 * coroutine (sp_g_start) before it runs. Anything else (a request, a full
 * ring, budget spent, no memory for a stack) stops it with that goroutine.
 * When it
 * stops, the status word goes from entered to the same generation with
 * SP_P_OWNED; if it had been changed (the P was taken, see sp_runq_busy),
 * lost is set, and the loop never touched q after it saw the change.
 * Errors: SP_EINVAL (q, g or out NULL, or g has neither a coroutine nor a
 * function); then out is untouched.
 */
SP_API int sp_runq_run(sp_runq *q, sp_g *g, int64_t entered, int32_t budget, sp_run_result *out);

/* ------------------------------------------------------------------------ */
/* Goroutine records, the global run queue, and spawns without the runtime  */
/* ------------------------------------------------------------------------ */

/*
 * An sp_sched is the native half of one managed scheduler: it makes and
 * reuses the sp_g records, keeps the global run queue, numbers goroutines and
 * counts the live ones. A run queue attached to it (sp_runq_attach) keeps a
 * free list of records and its share of the live count, so that a native
 * goroutine in the run loop can start another (sp_go) and finish without a
 * runtime call: the new record goes to runnext (the one it displaces to the
 * ring, half of a full ring to the global queue, as Go's newproc does), and a
 * finished goroutine's stack goes back to its thread's cache and its record
 * to the free list while the loop goes on with the next one.
 */
typedef struct sp_sched sp_sched;

/** Makes an sp_sched whose native goroutines get stacks of kind (SP_STACK_*)
    and max_stack bytes (0: the kind's default), as sp_coro_options says.
    Errors: SP_EINVAL (out NULL, bad kind or size), SP_ENOMEM. */
SP_API int sp_sched_create(sp_sched **out, int32_t stack_kind, size_t max_stack);

/** Frees s and every record it made; neither may be used by any thread any
    more, and the coroutines of unfinished goroutines must have been destroyed.
    SP_EINVAL for NULL. */
SP_API int sp_sched_destroy(sp_sched *s);

/** Ties q to s: q's free list and live count then serve s, and the run loop
    on q finishes native goroutines and serves sp_go itself. A queue is
    attached once. Errors: SP_EINVAL (NULL), SP_ESTATE (already attached). */
SP_API int sp_runq_attach(sp_runq *q, sp_sched *s);

/**
 * A record for a new goroutine, from q's free list when q is given (q's owner
 * only; q attached to s), else from s's: its id set, flags, hold, coro and
 * parked_on cleared, state SP_G_RUNNABLE, and counted live. NULL for bad
 * arguments or no memory.
 */
SP_API sp_g *sp_sched_new_g(sp_sched *s, sp_runq *q);

/** Makes g, a record from sp_sched_new_g, a native goroutine that will run
    fn(arg) on a stack of s's kind, taken when it first runs (sp_g_start).
    Errors: SP_EINVAL (NULL), SP_ENOTSPLIT or SP_ENOTSUP (s's stack kind does
    not suit fn, as sp_coro_create says). */
SP_API int sp_g_init_native(sp_sched *s, sp_g *g, sp_fn fn, void *arg);

/** Gives g, a native goroutine that has not run yet, its coroutine (the run
    loop does this itself); SP_OK at once when it has one. Errors: SP_EINVAL
    (NULL, or no fn), SP_ENOMEM. */
SP_API int sp_g_start(sp_sched *s, sp_g *g);

/** Takes g (finished, its coroutine destroyed or never made) out of the live
    count and back to q's free list (q's owner only), or to s's when q is
    NULL; its state becomes SP_G_DEAD. Ignores NULL s or g, a g that is not
    one of s's records, and one already SP_G_DEAD. @trivial */
SP_API void sp_sched_free_g(sp_sched *s, sp_runq *q, sp_g *g);

/** Moves q's free records to s's (q's owner only, as its P retires). @trivial */
SP_API void sp_sched_drain_free(sp_sched *s, sp_runq *q);

/** Goroutines started and not finished: s's count plus those of its
    attached queues. Exact only while no queue's owner runs (the scheduler's
    deadlock check), a snapshot otherwise. 0 for NULL. @trivial */
SP_API int64_t sp_sched_live(const sp_sched *s);

/** How many records s has made (slots 0 .. n-1). 0 for NULL. @trivial */
SP_API int64_t sp_sched_records(const sp_sched *s);

/** The record in slot, or NULL when there is none. @trivial */
SP_API sp_g *sp_sched_record(const sp_sched *s, int64_t slot);

/** The first slot at or after from whose record holds a goroutine (state
    not SP_G_DEAD), or -1 when there is none (also for NULL s). Walks the
    records natively, so enumerating a million mostly finished records is
    one call, not a million. */
SP_API int64_t sp_sched_next_live(const sp_sched *s, int64_t from);

/** Appends g to s's global run queue. Ignores NULL, a g that is not one of
    s's records, and a push into a full queue (it has room for each record
    once, so only a record queued twice fills it). @trivial */
SP_API void sp_sched_global_push(sp_sched *s, sp_g *g);

/** Takes the oldest goroutine from s's global run queue; NULL when empty.
    @trivial */
SP_API sp_g *sp_sched_global_pop(sp_sched *s);

/** Goroutines in s's global run queue (a snapshot). 0 for NULL. @trivial */
SP_API int64_t sp_sched_global_count(const sp_sched *s);

/**
 * Go's globrunqget: takes a fair share of s's global queue for q (q's owner
 * only; at most count / procs + 1, and no more than half a ring) and returns
 * the first to run now, the rest in q's ring. NULL when the queue is empty.
 * @trivial
 */
SP_API sp_g *sp_sched_global_take(sp_sched *s, sp_runq *q, int32_t procs);

/**
 * Adds g to q as sp_runq_put does (q's owner only); when the ring is full,
 * moves half of it and the goroutine that did not fit to s's global queue
 * (Go's runqputslow). @trivial
 */
SP_API void sp_runq_put_spill(sp_runq *q, sp_sched *s, sp_g *g, bool next);

/** The runtime's coarse clock in milliseconds, which goroutine records are
    stamped with (sp_g.since_ms): its word, written by whoever keeps it (the
    managed scheduler's monitor, once a millisecond). Never NULL. @trivial */
SP_API int64_t *sp_clock_ms(void);

/* ------------------------------------------------------------------------ */
/* Channel state: shared by the managed runtime and the native fast path    */
/* ------------------------------------------------------------------------ */

/*
 * Every channel's buffer, lock and counters live in native memory, so that a
 * native goroutine running in the run loop can complete a channel operation
 * without a runtime call: when the channel is made by native code and no
 * managed party (a thread, a managed goroutine, a select) waits on it,
 * sp_chan_send and sp_chan_recv hand the element to a parked native goroutine,
 * use the buffer, or park the caller in the channel's native queues, all on
 * the goroutine's stack. Everything else (closed channels, selects, C#'s
 * parties) goes to the managed runtime, which works on the same state under
 * the same lock and also serves the native queues.
 */

/** sp_chan_state.flags. */
enum {
    SP_CHAN_CLOSED = 1,
    SP_CHAN_RELEASED = 2,
    /** Reachable from C#: every operation goes through the managed runtime,
        which knows who may still wake a waiter (deadlock detection). */
    SP_CHAN_OUTSIDE = 4
};

/** A native goroutine parked in a channel's native queue; it lives on that
    goroutine's stack. */
typedef struct sp_chan_waiter {
    /** The goroutine to ready. */
    sp_g *g;
    /** The element to send, or where to receive (NULL: discard). */
    void *elem;
    struct sp_chan_waiter *prev;
    struct sp_chan_waiter *next;
    /** The channel whose queue holds it (NULL once taken out). */
    struct sp_chan_state *chan;
    /** Set by whoever completes it: SP_OK, or SP_ECLOSED for a send. */
    int32_t result;
    /** Set for a receive: 1 for a value, 0 for a closed channel's zero. */
    int32_t ok;
    /** 1 in the send queue, 0 in the receive queue. */
    int32_t is_send;
    int32_t reserved;
} sp_chan_waiter;

/** One channel's state. Every field but elem_size and capacity is read and
    written only under lock (0 free, 1 held). */
typedef struct sp_chan_state {
    int32_t lock;
    int32_t flags;
    int32_t elem_size;
    int32_t capacity;
    int32_t head;
    int32_t count;
    /** Parties the managed runtime has queued on this channel: while any
        waits, every operation goes through the managed runtime. */
    int32_t managed_waiters;
    int32_t reserved;
    /** The handle it is published under (0 when none). */
    uint64_t handle;
    /** capacity * elem_size bytes, or NULL when that is 0. */
    uint8_t *buffer;
    sp_chan_waiter *recv_first;
    sp_chan_waiter *recv_last;
    sp_chan_waiter *send_first;
    sp_chan_waiter *send_last;
} sp_chan_state;

/** Makes a channel's state with an unlocked lock and room for capacity
    elements. Errors: SP_EINVAL (out NULL, elem_size above SP_CHAN_MAX_ELEM,
    negative capacity, a buffer above 2 GiB), SP_ENOMEM. */
SP_API int sp_chan_state_make(sp_chan_state **out, int32_t elem_size, int32_t capacity);

/** Frees ch's buffer and keeps the state for reuse (never returned to the
    system: a stale handle may still lead a lookup to it, and then finds a
    different handle there). It must be unpublished and have no waiters.
    SP_EINVAL for NULL. */
SP_API int sp_chan_state_free(sp_chan_state *ch);

/** Publishes ch under handle ((generation << 32) | (slot + 1), as the
    managed handle table makes them), so sp_chan_send and sp_chan_recv find it
    without the runtime; sets ch->handle. Errors: SP_EINVAL (NULL, handle 0),
    SP_ENOMEM. */
SP_API int sp_chan_publish(uint64_t handle, sp_chan_state *ch);

/** Withdraws handle (call with the channel's lock held, after marking it
    released). Unknown handles are ignored. */
SP_API void sp_chan_unpublish(uint64_t handle);

/** Under ch's lock: takes the longest-waiting native receiver (senders
    false) or sender (true) out of its queue; NULL when none. @trivial */
SP_API sp_chan_waiter *sp_chan_take_waiter(sp_chan_state *ch, bool senders);

/** Under the lock of w's channel: takes w out of its queue (if it is in one).
    @trivial */
SP_API void sp_chan_remove_waiter(sp_chan_waiter *w);

/* ------------------------------------------------------------------------ */
/* Wait group state: shared by the managed runtime and the native fast path */
/* ------------------------------------------------------------------------ */

/*
 * A wait group made by sp_wg_make keeps its counter in native memory, found
 * by its handle without the runtime: sp_wg_add completes natively unless it
 * brings the counter to zero with goroutines waiting, and sp_wg_wait returns
 * natively when the counter is already zero. Waking and parking are the
 * managed runtime's, which changes the same fields under the same lock.
 */
typedef struct sp_wg_state {
    /** The lock: an sp_lock word (0 free, 1 held), which the managed runtime
        takes with a compare-exchange. */
    int32_t lock;
    /** Goroutines parked in sp_wg_wait (kept by the managed runtime). */
    int32_t waiters;
    int64_t count;
    /** The handle it is published under; 0 once released. */
    uint64_t handle;
} sp_wg_state;

/** A zeroed state, from a free list of states that are never returned to the
    system (a stale handle's lookup may still read one). Errors: SP_EINVAL
    (out NULL), SP_ENOMEM. */
SP_API int sp_wg_state_make(sp_wg_state **out);

/** Withdraws wg's handle and gives the state back to the free list; wg must
    not be used again. SP_EINVAL for NULL. */
SP_API int sp_wg_state_free(sp_wg_state *wg);

/** Publishes wg under handle ((generation << 32) | (slot + 1)); sets
    wg->handle. Errors: SP_EINVAL (NULL, handle 0 or beyond 64 Mi slots),
    SP_ENOMEM. */
SP_API int sp_wg_publish(uint64_t handle, sp_wg_state *wg);

/* ------------------------------------------------------------------------ */
/* Goroutine code built with -fsplit-stack                                  */
/* ------------------------------------------------------------------------ */

/*
 * gold and lld turn every direct call from split-stack code into another
 * shared object into a call to code that is not split-stack, and give its
 * caller 16 KiB more stack for it; a goroutine parked in sp_chan_recv would
 * then hold a 16 KiB segment instead of 2 KiB. So in code compiled with
 * SPINDLE_SPLIT_STACK defined (spindle_add_goroutine_library defines it),
 * the calls that may park a goroutine keep their names but reach the runtime
 * through this table, which the linker leaves alone. Their stack use in
 * libspindle fits the reserve below every segment's limit.
 */
#if defined(SPINDLE_SPLIT_STACK) || defined(SPINDLE_BUILDING)
/** The goroutine-facing calls, one field per function of the same name. */
typedef struct sp_goroutine_calls {
    int (*sp_go)(sp_fn, void *);
    int (*sp_gosched)(void);
    int (*sp_sleep)(int64_t);
    int (*sp_block_enter)(void);
    int (*sp_block_exit)(void);
    int (*sp_call)(int32_t, void *, int64_t *);
    int (*sp_wg_make)(sp_wg *);
    int (*sp_wg_add)(sp_wg, int);
    int (*sp_wg_done)(sp_wg);
    int (*sp_wg_wait)(sp_wg);
    int (*sp_wg_release)(sp_wg);
    int (*sp_chan_make)(sp_chan *, size_t, size_t);
    int (*sp_chan_send)(sp_chan, const void *);
    int (*sp_chan_recv)(sp_chan, void *, bool *);
    int (*sp_chan_close)(sp_chan);
    int (*sp_chan_len)(sp_chan);
    int (*sp_chan_cap)(sp_chan);
    int (*sp_chan_release)(sp_chan);
    int (*sp_select)(sp_case *, int, bool);
    int (*sp_after)(sp_chan *, int64_t);
    int (*sp_ticker_make)(sp_chan *, int64_t);
    int (*sp_ticker_stop)(sp_chan);
    int (*sp_mutex_make)(sp_mutex *);
    int (*sp_mutex_lock)(sp_mutex);
    int (*sp_mutex_unlock)(sp_mutex);
    int (*sp_mutex_release)(sp_mutex);
    int (*sp_coro_yield)(void);
    int (*sp_coro_request)(sp_request *);
    int (*sp_systemstack)(sp_fn, void *);
} sp_goroutine_calls;

/** The table libspindle fills; read-only. */
SP_API extern const sp_goroutine_calls sp_goroutine_call_table;
#endif

#if defined(SPINDLE_SPLIT_STACK)
#  define SP_VIA_TABLE_(name) (sp_goroutine_call_table.name)
#  define sp_go(fn, arg) SP_VIA_TABLE_(sp_go)((fn), (arg))
#  define sp_gosched() SP_VIA_TABLE_(sp_gosched)()
#  define sp_sleep(ns) SP_VIA_TABLE_(sp_sleep)((ns))
#  define sp_block_enter() SP_VIA_TABLE_(sp_block_enter)()
#  define sp_block_exit() SP_VIA_TABLE_(sp_block_exit)()
#  define sp_call(id, arg, result) SP_VIA_TABLE_(sp_call)((id), (arg), (result))
#  define sp_wg_make(out) SP_VIA_TABLE_(sp_wg_make)((out))
#  define sp_wg_add(wg, delta) SP_VIA_TABLE_(sp_wg_add)((wg), (delta))
#  define sp_wg_done(wg) SP_VIA_TABLE_(sp_wg_done)((wg))
#  define sp_wg_wait(wg) SP_VIA_TABLE_(sp_wg_wait)((wg))
#  define sp_wg_release(wg) SP_VIA_TABLE_(sp_wg_release)((wg))
#  define sp_chan_make(out, size, cap) SP_VIA_TABLE_(sp_chan_make)((out), (size), (cap))
#  define sp_chan_send(ch, elem) SP_VIA_TABLE_(sp_chan_send)((ch), (elem))
#  define sp_chan_recv(ch, elem, ok) SP_VIA_TABLE_(sp_chan_recv)((ch), (elem), (ok))
#  define sp_chan_close(ch) SP_VIA_TABLE_(sp_chan_close)((ch))
#  define sp_chan_len(ch) SP_VIA_TABLE_(sp_chan_len)((ch))
#  define sp_chan_cap(ch) SP_VIA_TABLE_(sp_chan_cap)((ch))
#  define sp_chan_release(ch) SP_VIA_TABLE_(sp_chan_release)((ch))
#  define sp_select(cases, n, dflt) SP_VIA_TABLE_(sp_select)((cases), (n), (dflt))
#  define sp_after(out, ns) SP_VIA_TABLE_(sp_after)((out), (ns))
#  define sp_ticker_make(out, ns) SP_VIA_TABLE_(sp_ticker_make)((out), (ns))
#  define sp_ticker_stop(t) SP_VIA_TABLE_(sp_ticker_stop)((t))
#  define sp_mutex_make(out) SP_VIA_TABLE_(sp_mutex_make)((out))
#  define sp_mutex_lock(m) SP_VIA_TABLE_(sp_mutex_lock)((m))
#  define sp_mutex_unlock(m) SP_VIA_TABLE_(sp_mutex_unlock)((m))
#  define sp_mutex_release(m) SP_VIA_TABLE_(sp_mutex_release)((m))
#  define sp_coro_yield() SP_VIA_TABLE_(sp_coro_yield)()
#  define sp_coro_request(req) SP_VIA_TABLE_(sp_coro_request)((req))
#  define sp_systemstack(fn, arg) SP_VIA_TABLE_(sp_systemstack)((fn), (arg))
#endif

#ifdef __cplusplus
}
#endif

#endif /* SPINDLE_H */
