/* Internal interfaces of the coroutine core: descriptors, stacks, switch. */
#ifndef SPINDLE_CORO_INTERNAL_H
#define SPINDLE_CORO_INTERNAL_H

#include "spindle.h"

#if defined(_WIN32)
#  define SP_HIDDEN
#else
#  define SP_HIDDEN __attribute__((visibility("hidden")))
#endif

#if defined(__GNUC__)
#  define SP_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#  define SP_NOINLINE __declspec(noinline)
#else
#  define SP_NOINLINE
#endif

#if defined(__GNUC__)
#  define SP_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* initial-exec: a fixed offset from the thread pointer, no __tls_get_addr
   call on the switch path; the few bytes fit glibc's static TLS surplus that
   exists for dlopen'ed libraries such as this one under .NET. */
#  if defined(__ELF__)
#    define SP_THREAD_LOCAL __thread __attribute__((tls_model("initial-exec")))
#  else
#    define SP_THREAD_LOCAL __thread
#  endif
#else
#  define SP_UNLIKELY(x) (x)
#  define SP_THREAD_LOCAL _Thread_local
#endif

/* ---- the switch (switch_<arch>_<abi>.S) ---------------------------------- */

/* Saves the callee-saved state on the current stack, stores the stack pointer
   in *save_sp, continues on load_sp; returns the transfer value the other
   side passes when it switches back. Declared with int in and out (the
   assembly moves a whole register) so that C callers can tail-call it. */
SP_HIDDEN int sp_switch(void **save_sp, void *load_sp, int transfer);
SP_HIDDEN void sp_coro_trampoline(void);
/* The same, ending in a ret, for a switch between two coroutines that both
   switched out from the same call site (sp_coro_transfer): the return-stack
   predictor then guesses right. Only x86-64 System V has its own; elsewhere
   sp_switch already ends in a ret (AArch64) or the jump is kept (Win64). */
#if defined(__x86_64__) && !defined(_WIN32)
SP_HIDDEN int sp_switch_symmetric(void **save_sp, void *load_sp, int transfer);
#else
#  define sp_switch_symmetric sp_switch
#endif
/* Runs fn(arg) with rsp = stack_top and the split-stack limit slot zero, then
   comes back (x86-64 System V only; sp_systemstack). */
SP_HIDDEN void sp_run_on_stack(sp_fn fn, void *arg, void *stack_top);

/* ---- stacks (stack_<os>.c) ---------------------------------------------- */

/* One reserved mapping: [map_base, map_base + guard) is the guard region,
   [low, top) the usable stack, and the descriptor sits at top. */
typedef struct sp_stack {
    char *map_base;
    size_t map_size;
    char *low;
    char *top;
    size_t usable;          /* top - low: the coroutine's stack limit */
    size_t requested;       /* the max_stack it was mapped for */
    size_t committed;       /* bytes committed up front (Windows) */
    unsigned valgrind_id;
} sp_stack;

/* The bytes at the top of each mapping that hold the descriptor. */
#define SP_DESCRIPTOR_SPACE 256

SP_HIDDEN size_t sp_page_size(void);
/* Maps a stack of at least max_stack usable bytes with a guard below it. */
SP_HIDDEN int sp_stack_map(sp_stack *st, size_t max_stack, size_t initial_commit);
SP_HIDDEN void sp_stack_unmap(sp_stack *st);
/* Makes a used stack clean for its next coroutine: zero below the top, and
   the pages of a deep run given back to the system. written_from is the
   lowest address known to hold data when that is known exactly (a coroutine
   that never ran wrote only its first frame), or NULL. */
SP_HIDDEN void sp_stack_clean(sp_stack *st, const char *written_from);
/* The lowest address of st that may be read without faulting or committing. */
SP_HIDDEN const char *sp_stack_readable_floor(const sp_stack *st);
/* The initial TEB StackLimit for a fresh or cleaned stack (Windows only). */
SP_HIDDEN char *sp_stack_committed_floor(const sp_stack *st);

/* ---- descriptors --------------------------------------------------------- */

enum sp_coro_state {
    SP_STATE_NEW = 0,
    SP_STATE_SUSPENDED = SP_CORO_SUSPENDED,
    SP_STATE_DONE = SP_CORO_DONE,
    SP_STATE_REQUEST = SP_CORO_REQUEST,
    SP_STATE_RUNNING = SP_CORO_RUNNING
};

#define SP_CORO_LIVE 0x53504c56u   /* "SPLV" */
#define SP_CORO_DEAD 0x53504444u   /* "SPDD" */

struct sp_coro {
    void *sp;                 /* saved stack pointer while not running */
    void *resumer_sp;         /* the resumer's saved stack pointer while running */
    /* While running: where the saved stack pointer of the outermost resumer
       on this thread (a thread, not a coroutine) is kept. Below it the
       thread's own stack is free; __morestack and sp_systemstack run there.
       At offset SP_CORO_SYSTEM_SP_SLOT (segment.h). */
    void **system_sp_slot;
    uint32_t magic;
    int32_t state;
    sp_fn fn;
    void *arg;
    sp_coro *resumer;         /* coroutine that resumed this one, NULL for a thread */
    sp_request *request;      /* pending runtime call while state == REQUEST */
    uint64_t id;
    int32_t flags;            /* SP_CORO_* from the options */
    int32_t kind;             /* SP_STACK_RESERVED or SP_STACK_SEGMENTED */
    int32_t on_system_stack;  /* inside sp_systemstack */
    int32_t reserved;
    sp_stack stack;           /* reserved stacks only */
    struct sp_segment *segments; /* segmented: the first segment (holds this descriptor) */
    size_t segment_bytes;     /* segmented: bytes of all segments held */
    size_t segment_max;       /* segmented: the most segment_bytes may reach */
    sp_coro *pool_next;
#if defined(SPINDLE_ASAN)
    void *asan_fake_stack;    /* this coroutine's, while it is switched out */
    void *asan_resumer_fake_stack;
    const void *asan_resumer_bottom;
    size_t asan_resumer_size;
#endif
#if defined(SPINDLE_TSAN)
    void *tsan_fiber;         /* this coroutine's TSan fiber */
    void *tsan_resumer_fiber; /* its resumer's, while it runs */
#endif
};

/* Where code may run on the thread's own stack while co runs: below the
   outermost resumer's saved frame, past any red zone, 16-byte aligned. */
static inline void *sp_system_stack_top(const sp_coro *co)
{
    return (void *)(((uintptr_t)*co->system_sp_slot - 128) & ~(uintptr_t)15);
}

/* What sp_coro_create(fn, opts) would answer before it takes any memory:
   SP_OK with the stack kind and size it would give, or its error (a spawn
   checks at once, and creates the coroutine when the goroutine first runs). */
SP_HIDDEN int sp_coro_check(sp_fn fn, const sp_coro_options *opts, int *kind, size_t *max_stack);
/* sp_coro_create with options sp_coro_check has accepted and resolved. */
SP_HIDDEN int sp_coro_create_checked(sp_coro **out, sp_fn fn, void *arg, int kind, size_t max_stack,
                                     size_t initial, int32_t flags);

/* co, a segmented coroutine that has finished (SP_CORO_DONE), made a new one
   that runs fn(arg) on co's first segment, as sp_coro_create_checked would
   make it with co's kind, limit and flags: the run loop hands a finished
   goroutine's stack to a fresh one, with no trip through the segment cache.
   Returns 0, leaving co alone, for any other coroutine. */
SP_HIDDEN int sp_coro_reuse(sp_coro *co, sp_fn fn, void *arg);

/* ---- direct switches (coro.c, for run_loop.c) ---------------------------- */

/* From co, the running coroutine, straight to n, a suspended one that takes
   co's place under the same resume (same resumer, same system stack): one
   switch instead of two through the resumer. Returns co's answer when it is
   resumed again. Not in ASan builds (their fiber annotations pair a
   coroutine with its resumer). */
SP_HIDDEN int sp_coro_transfer(sp_coro *co, sp_coro *n);
/* A bare yield to co's resumer (SP_CORO_SUSPENDED), returning to the caller,
   not the caller's caller, when co is resumed. */
SP_HIDDEN int sp_coro_suspend(sp_coro *co);

/* ---- pools (pool.c) ------------------------------------------------------ */

/* A descriptor with a mapped stack of at least max_stack bytes. */
SP_HIDDEN sp_coro *sp_pool_take(size_t max_stack, size_t initial_commit);
SP_HIDDEN void sp_pool_give(sp_coro *co);
SP_HIDDEN uint64_t sp_next_coro_id(void);

/* ---- stack accounting (pool.c) ------------------------------------------- */

/* The stack bytes coroutines hold, counted per thread with no locked
   instruction (a stack taken on one thread may be given back on another: the
   sum over threads is right, a thread's own count is not) and summed when
   read (sp_stack_stats). Threads beyond the slots share the last one, with
   locked adds. */
#define SP_STACK_SLOTS 256
typedef struct sp_stack_slot {
    _Alignas(64) _Atomic int64_t segmented; /* bytes of segments held */
    _Atomic int64_t reserved;               /* usable bytes of reserved stacks held */
    _Atomic int64_t grown;                  /* segments added to a running stack */
    int32_t shared;                         /* the last slot: every thread past the others */
} sp_stack_slot;
SP_HIDDEN sp_stack_slot *sp_stack_slot_claim(void);
extern SP_HIDDEN SP_THREAD_LOCAL sp_stack_slot *sp_tls_stack_slot;

static inline void sp_stack_count(_Atomic int64_t *field, int64_t delta, int shared)
{
    if (SP_UNLIKELY(shared))
        __atomic_fetch_add((int64_t *)field, delta, __ATOMIC_RELAXED);
    else
        __atomic_store_n((int64_t *)field, __atomic_load_n((int64_t *)field, __ATOMIC_RELAXED) + delta,
                         __ATOMIC_RELAXED);
}

/* Adds to the calling thread's counts (segmented bytes, reserved bytes,
   segments grown). */
static inline void sp_stack_account(int64_t segmented, int64_t reserved, int64_t grown)
{
    sp_stack_slot *s = sp_tls_stack_slot;
    if (SP_UNLIKELY(s == NULL))
        s = sp_stack_slot_claim();
    if (segmented != 0)
        sp_stack_count(&s->segmented, segmented, s->shared);
    if (reserved != 0)
        sp_stack_count(&s->reserved, reserved, s->shared);
    if (grown != 0)
        sp_stack_count(&s->grown, grown, s->shared);
}

/* ---- frames (frame.c) ---------------------------------------------------- */

/* Lays out the first frame of a new coroutine under st->top so that switching
   to the returned stack pointer enters sp_coro_trampoline with co. */
SP_HIDDEN void *sp_frame_init(sp_coro *co);

/* The split-stack limit slot (x86-64 Linux): signal handlers run with it
   cleared, so split-stack code a handler calls never looks for a segment. */
static inline uintptr_t clear_stack_limit(void)
{
#if defined(__x86_64__) && defined(__linux__)
    uintptr_t limit;
    __asm__ volatile("movq %%fs:0x70, %0\n\tmovq $0, %%fs:0x70" : "=r"(limit) : : "memory");
    return limit;
#else
    return 0;
#endif
}

static inline void restore_stack_limit(uintptr_t limit)
{
#if defined(__x86_64__) && defined(__linux__)
    __asm__ volatile("movq %0, %%fs:0x70" : : "r"(limit) : "memory");
#else
    (void)limit;
#endif
}

/* ---- per-thread state ---------------------------------------------------- */

/* The coroutine running on this thread (coro.c keeps it), read inline: the
   run loop and the channel fast path ask on every operation. */
extern SP_HIDDEN SP_THREAD_LOCAL sp_coro *sp_tls_current;
static inline sp_coro *sp_current(void) { return sp_tls_current; }
/* Runs once per thread before its first resume: the overflow handler's
   alternate stack (POSIX) or exception handler (Windows). */
SP_HIDDEN void sp_fault_thread_init(void);
/* Whether sp_fault_thread_init gave the calling thread an alternate signal
   stack of its full size (async-signal-safe: a thread-local read). */
SP_HIDDEN int sp_fault_thread_has_altstack(void);
SP_HIDDEN void sp_fault_report_overflow(const sp_coro *co, const void *fault_addr);
/* Ends the process: code that is not split-stack, reached through a function
   pointer, ran past the reserve below a segment's limit (co may be NULL). */
SP_HIDDEN void sp_fault_report_segment_overrun(const sp_coro *co);

/* ---- platform (platform_<os>.c) ----------------------------------------- */

/* A spin lock for rarely contended global state; zero is unlocked. */
typedef struct sp_lock { int held; } sp_lock;
/* Waits until l is free and takes it (platform_<os>.c: yields the thread). */
SP_HIDDEN void sp_lock_wait(sp_lock *l);
/* Taking and releasing are inline: one exchange uncontended. Channels' and
   wait groups' locks are the same word (sp_chan_state.lock, sp_wg_state.lock),
   which the managed runtime takes with a compare-exchange. */
static inline void sp_lock_acquire(sp_lock *l)
{
    if (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE) != 0)
        sp_lock_wait(l);
}

static inline void sp_lock_release(sp_lock *l) { __atomic_store_n(&l->held, 0, __ATOMIC_RELEASE); }
/* A word a thread waits on until another sets it nonzero (a blocked
   thread's wake-up: futex on Linux, WaitOnAddress on Windows). */
SP_HIDDEN void sp_wake_word_wait(int32_t *word);
SP_HIDDEN void sp_wake_word_set(int32_t *word);
/* Makes sure cleanup runs when the calling thread exits (platform_*.c): each
   layer that keeps per-thread state (pools, segment caches, the alternate
   signal stack) arms it for its own cleanup, which runs for every thread
   that armed anything, so it must find nothing to do on the others. */
SP_HIDDEN void sp_arm_thread_exit(void (*cleanup)(void));
/* The platform's side (platform_*.c): arm the calling thread's exit hook,
   which calls sp_thread_exit_run (thread_exit.c). */
SP_HIDDEN void sp_platform_arm_thread_exit(void);
SP_HIDDEN void sp_thread_exit_run(void);
SP_HIDDEN void sp_pool_thread_exit(void);
SP_HIDDEN void sp_fault_thread_exit(void);
/* Writes a message to standard error with no allocation (signal-safe). */
SP_HIDDEN void sp_write_stderr(const char *s, size_t n);
SP_HIDDEN void sp_exit_fatal(void);

#endif
