/*
 * spindle_host.h - what the managed runtime (the host) drives in libspindle.
 *
 * Not installed, and no ABI promise: the host is built from the same tree
 * (its bindings, src/Spindle/Interop/SpindleHost.g.cs, are generated from
 * this header and are internal to Spindle.Runtime). C programs never need
 * it; they use spindle.h.
 *
 * What is here
 *   - the runtime-call protocol between goroutine calls and the scheduler;
 *   - goroutine records, their states and wait reasons, numbered once here;
 *   - a processor's run queue and the run loop that switches between native
 *     goroutines without the host;
 *   - the scheduler's native half: records, free lists, ids, the live
 *     count, the global run queue;
 *   - the engine's side for parties the host owns (managed goroutines,
 *     async code, plain threads): channels, select, mutexes, wait groups and
 *     timers, with the wakes they cause handed back to the host;
 *   - the switch trace: per-thread batches of fixed-size records, and the
 *     host's marks.
 */
#ifndef SPINDLE_HOST_H
#define SPINDLE_HOST_H

#include "spindle.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Runtime calls the scheduler serves                                       */
/* ------------------------------------------------------------------------ */

/** sp_request.op of a goroutine's runtime calls. Everything else a goroutine
    asks for (channels, select, timers, mutexes, wait groups, spawns and
    yields in its run loop) libspindle serves itself. */
enum {
    SP_OP_GO = 1,          /**< args[0] fn, args[1] arg: a spawn outside the run loop */
    SP_OP_GOSCHED = 2,     /**< a yield outside the run loop */
    SP_OP_BLOCK_ENTER = 3,
    SP_OP_BLOCK_EXIT = 4,
    SP_OP_CALL = 5,        /**< args[0] callback id, args[1] arg; value = result */
    /** The goroutine has queued its party (args[0], an sp_party) outside its
        run loop and must park: sp_host_commit_park finishes it. */
    SP_OP_PARK = 6
};

/* ------------------------------------------------------------------------ */
/* Goroutine records                                                        */
/* ------------------------------------------------------------------------ */

/** sp_g.state. The host's GoroutineState uses these numbers. */
enum {
    SP_G_RUNNABLE = 0, /**< in a run queue */
    SP_G_RUNNING = 1,  /**< being resumed */
    SP_G_WAITING = 2,  /**< parked until something readies it */
    SP_G_BLOCKING = 3, /**< inside sp_block_enter .. sp_block_exit */
    SP_G_DEAD = 4      /**< a record that holds no goroutine (finished, free, never used) */
};

/** sp_g.wait_reason, as Go's goroutine dump names them. The host's
    WaitReason uses these numbers. */
enum {
    SP_WAIT_NONE = 0,
    SP_WAIT_SLEEP = 1,            /**< "sleep" */
    SP_WAIT_WAIT_GROUP = 2,       /**< "sync.WaitGroup.Wait" */
    SP_WAIT_CHAN_SEND = 3,        /**< "chan send" */
    SP_WAIT_CHAN_RECV = 4,        /**< "chan receive" */
    SP_WAIT_CHAN_SEND_NIL = 5,    /**< "chan send (nil chan)" */
    SP_WAIT_CHAN_RECV_NIL = 6,    /**< "chan receive (nil chan)" */
    SP_WAIT_SELECT = 7,           /**< "select" */
    SP_WAIT_SELECT_NO_CASES = 8,  /**< "select (no cases)" */
    SP_WAIT_MUTEX = 9,            /**< "sync.Mutex.Lock" */
    /** A managed goroutine awaiting something outside Spindle (a Task): a
        thread may wake it, so it never counts towards a deadlock. */
    SP_WAIT_EXTERNAL = 10
};

/** sp_g.flags. */
enum {
    /** A managed goroutine (an async method): the run loop never resumes it. */
    SP_G_MANAGED = 1,
    /** Its exit must go back to the scheduler (the main goroutine): the run
        loop does not finish it by itself. */
    SP_G_EXIT_TO_SCHEDULER = 2,
    /** Set by sp_g_init_native: its coroutine gets a segmented stack. */
    SP_G_SEGMENTED = 4,
    /** Set by the run loop while the goroutine is suspended inside it (a
        yield or a park there): a direct switch to it lands where it left. */
    SP_G_IN_LOOP = 8
};

/** sp_g.hold bits: set, the host must see the goroutine before it runs again,
    and the run loop leaves it in the queue for its caller. */
enum {
    SP_HOLD_REQUEST = 1,  /**< a runtime call left pending by a worker that lost its P */
    SP_HOLD_BLOCKING = 2  /**< inside a blocking section */
};

struct sp_party;
struct sp_wakes;

/**
 * A goroutine as the run queues hold it. Records are made and reused by an
 * sp_sched (sp_sched_new_g), which owns their memory; the slot numbers them
 * in the order they were made.
 */
typedef struct sp_g {
    /** A native goroutine's coroutine: NULL for a managed goroutine, and for a
        native one that has not run yet (fn and arg say what it will run). */
    sp_coro *coro;
    /** The record's number in its sp_sched, from 0 (sp_sched_record). */
    int64_t slot;
    /** SP_HOLD_* bits. */
    int32_t hold;
    /** SP_G_* state, as libspindle and the host last set it. */
    int32_t state;
    /** While waiting: why (SP_WAIT_*). */
    int32_t wait_reason;
    /** SP_G_MANAGED, SP_G_EXIT_TO_SCHEDULER, SP_G_SEGMENTED. */
    int32_t flags;
    /** While a native goroutine is parked: its party, so that the host can
        take it out of every queue when it discards the goroutine. */
    struct sp_party *parked_on;
    /** The goroutine's id: 1, 2, ... in its sp_sched, never reused. */
    int64_t id;
    /** When it entered its state, in sp_clock_ms() milliseconds. */
    int64_t since_ms;
    /** A native goroutine that has not run yet: what it will run. */
    sp_fn fn;
    void *arg;
} sp_g;

/* ------------------------------------------------------------------------ */
/* Run queues and the run loop                                              */
/* ------------------------------------------------------------------------ */

/*
 * Each processor (P) keeps its local run queue here, in native memory: Go's
 * runq, a ring of SP_RUNQ_CAPACITY entries that only its owner (the thread
 * holding the P) appends to, while other threads may steal half of it, plus
 * a runnext slot. sp_runq_run resumes native goroutines from it and switches
 * between them by itself while they yield, park, spawn and finish, and comes
 * back to its caller for everything else.
 */

/** Slots in a run queue's ring (runnext not counted). */
#define SP_RUNQ_CAPACITY 256

/** The processor status word (sp_runq_status): (generation << 8) | state.
    The host's Processor uses these numbers. */
enum {
    SP_P_IDLE = 0,
    SP_P_OWNED = 1,        /**< held by a worker, not inside a resume */
    SP_P_IN_GOROUTINE = 2, /**< held by a worker that is resuming a goroutine */
    SP_P_IN_BLOCKING = 3,  /**< held by a worker inside a blocking section */
    SP_P_RETAKEN = 4,      /**< taken by the monitor from a stuck worker */
    SP_P_RETIRED = 5       /**< above GOMAXPROCS */
};

/** What sp_runq_run hands back in sp_run_result.status besides a resume's
    own result (SP_CORO_SUSPENDED, SP_CORO_REQUEST, SP_CORO_DONE, SP_E*). */
enum {
    /** The goroutine yielded and went back to the queue; the next one is not
        the loop's to resume (a managed goroutine, one with hold set, or
        none): sp_run_result.g is NULL and the caller finds the next one. */
    SP_RUN_REQUEUED = 16,
    /** The goroutine parked (its state SP_G_WAITING); sp_run_result.g is
        NULL and the caller finds the next goroutine itself. */
    SP_RUN_PARKED = 17,
    /** The goroutine finished and the loop freed its record itself;
        sp_run_result.g is NULL and the caller finds the next goroutine. */
    SP_RUN_EXITED = 18
};

/** A processor's local run queue (opaque). */
typedef struct sp_runq sp_runq;

/** What sp_runq_run stopped at. */
typedef struct sp_run_result {
    /** The goroutine that status is about (NULL with SP_RUN_REQUEUED,
        SP_RUN_PARKED and SP_RUN_EXITED). */
    sp_g *g;
    /** Its resume's result (SP_CORO_SUSPENDED, SP_CORO_REQUEST, SP_CORO_DONE,
        or an SP_E* code), or one of SP_RUN_*. */
    int32_t status;
    /** 1 when the status word was no longer the one the resume entered with:
        another thread (the scheduler's monitor) took the P meanwhile, and
        the caller holds it no more. */
    int32_t lost;
    /** Goroutines the loop switched to by itself, after the first. */
    int64_t switches;
    /** Managed parties the goroutines completed meanwhile (a list through
        sp_party.next_woken), for the host to resolve. */
    struct sp_party *wakes;
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
 * victim's ring, takes its runnext goroutine instead when take_next is true.
 * A thief passes false until its last attempt, as Go's stealWork does: the
 * owner is about to run its runnext goroutine, or to queue it in the ring
 * behind the next one it readies. NULL when there was nothing to take.
 * @trivial
 */
SP_API sp_g *sp_runq_steal_from(sp_runq *q, sp_runq *victim, bool take_next);

/**
 * Takes half of q's ring, oldest first, into out (at most capacity entries)
 * for the global queue (owner only); returns how many, 0 for bad arguments.
 * @trivial
 */
SP_API int sp_runq_take_half(sp_runq *q, sp_g **out, int capacity);

/** How many goroutines q holds, runnext included (a snapshot, for the
    meter). 0 for NULL. @trivial */
SP_API int32_t sp_runq_length(const sp_runq *q);

/** Whether q holds nothing, runnext included (a snapshot). true for NULL.
    @trivial */
SP_API bool sp_runq_empty(const sp_runq *q);

/**
 * The run loop (owner only; q attached to an sp_sched). The caller holds
 * the P, has set the status word to entered (its generation with
 * SP_P_IN_GOROUTINE, or SP_P_IN_BLOCKING for a goroutine in a blocking
 * section) and resumes g, a native goroutine. While the entered state is
 * SP_P_IN_GOROUTINE and budget is left, the loop serves what the goroutines
 * do by themselves: a goroutine that yields goes to the tail of the ring, one
 * that parks stays in what it waits on, one that finishes is freed, a spawn
 * goes to runnext, and the loop resumes the next native goroutine without
 * hold itself (straight from one goroutine to the next when it can), counting
 * one from budget each time. It runs the processor's due timers, takes the
 * processor's share of the global queue now and then (Go's every 61st
 * schedule), and ends a time slice that runnext hand-offs kept going for
 * SP_TIME_SLICE_MS, as Go's sysmon does, so that goroutines trading a value
 * back and forth never starve the rest of the queue. It stops with
 * SP_RUN_REQUEUED, SP_RUN_PARKED or SP_RUN_EXITED when the next goroutine is
 * not its to run, or when managed parties wait to be resolved (result.wakes);
 * and with that goroutine for anything else (a request, a full ring, budget
 * spent, no memory for a stack). When it stops, the status word goes from
 * entered to the same generation with SP_P_OWNED; if it had been changed
 * (the P was taken, see sp_runq_busy), lost is set, and the loop never
 * touched q after it saw the change.
 * Errors: SP_EINVAL (q, g or out NULL, q not attached, or g has neither a
 * coroutine nor a function); then out is untouched.
 */
SP_API int sp_runq_run(sp_runq *q, sp_g *g, int64_t entered, int32_t budget, sp_run_result *out);

/** How long runnext hand-offs may keep one time slice going (Go's
    forcePreemptNS), in milliseconds. */
#define SP_TIME_SLICE_MS 10

/* ------------------------------------------------------------------------ */
/* The scheduler's native half                                              */
/* ------------------------------------------------------------------------ */

/*
 * An sp_sched is the native half of one runtime: it makes and reuses the
 * sp_g records, keeps the global run queue, numbers goroutines, counts the
 * live ones and the waits a thread outside the runtime could end, and owns
 * the objects the runtime's goroutines make. A run queue attached to it
 * (sp_runq_attach) keeps a free list of records and its share of the live
 * count, so that a native goroutine in the run loop can start another and
 * finish without a runtime call.
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
    on q finishes native goroutines and serves spawns itself. A queue is
    attached once. Errors: SP_EINVAL (NULL), SP_ESTATE (already attached). */
SP_API int sp_runq_attach(sp_runq *q, sp_sched *s);

/**
 * A record for a new goroutine, from q's free list when q is given (q's owner
 * only; q attached to s), else from s's: its id set, flags, hold, coro and
 * parked_on cleared, state SP_G_RUNNABLE, and counted live. NULL for bad
 * arguments or no memory. @trivial
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
    not SP_G_DEAD), or -1 when there is none (also for NULL s). */
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

/** Native goroutines parked on an object a thread outside the runtime may
    still use (one C# made or named): such a wait never counts towards a
    deadlock. @trivial */
SP_API int64_t sp_sched_outside_waits(const sp_sched *s);

/** Timers in the heaps of s's processors: a pending timer can still wake a
    goroutine, so with one there is no deadlock. @trivial */
SP_API int64_t sp_sched_timers(const sp_sched *s);

/** Managed parties completed by goroutines that ran without a processor (a
    blocking section, a processor taken meanwhile): a list through
    sp_party.next_woken for the host to resolve, taken off s. @trivial */
SP_API struct sp_party *sp_sched_take_wakes(sp_sched *s);

/** Releases every object s's goroutines made and did not release (the
    runtime stops, as a Go program's exit frees everything); parties still
    waiting on them are woken with SP_ESTALE (managed ones added to out).
    Goroutines must have been discarded first (sp_host_discard). */
SP_API void sp_sched_release_objects(sp_sched *s, struct sp_wakes *out);

/** The coarse clock in milliseconds that goroutine records are stamped with
    (sp_g.since_ms) and the run loop's time slices and timer checks read:
    its word, advanced by sp_clock_tick. Never NULL. @trivial */
SP_API int64_t *sp_clock_ms(void);

/** Reads the monotonic clock and advances the coarse clock to it (the
    host's monitor, once a millisecond); returns the time in nanoseconds.
    @trivial */
SP_API int64_t sp_clock_tick(void);

/** The monotonic clock in nanoseconds (CLOCK_MONOTONIC; on Windows the
    performance counter): what timer channels deliver and deadlines use. */
SP_API int64_t sp_clock_now(void);

/* ------------------------------------------------------------------------ */
/* Parties: who waits                                                       */
/* ------------------------------------------------------------------------ */

/*
 * Every blocked operation is one party (Go's g in selectgo): a native
 * goroutine (readied into a run queue when it is completed), a managed one
 * (the host resolves its token), or a plain thread (woken through an OS
 * primitive). A party waits with one waiter per case (Go's sudog) in the
 * queues of what it waits on; whoever completes it first claims it, so a
 * select is performed once, and a cancelled party is never completed.
 * Host parties live in native memory the host allocates, together with
 * their waiters and elements, so nothing a counterpart copies to or from can
 * move.
 */

/** sp_party.kind. */
enum {
    SP_PARTY_GOROUTINE = 1,
    SP_PARTY_MANAGED = 2,
    SP_PARTY_THREAD = 3
};

struct sp_waitq;
struct sp_lock;

/** One case of a party, in one queue (Go's sudog). */
typedef struct sp_waiter {
    struct sp_party *party;
    struct sp_waiter *prev;
    struct sp_waiter *next;
    /** The queue it is in, NULL when it is in none. */
    struct sp_waitq *queue;
    /** That queue's lock, kept here when it joins: the party's owner takes it to
        leave the queue without reading the queue's object, which may have been
        released and its memory refilled for another meanwhile. */
    struct sp_lock *lock;
    /** The element to send, or where to receive (NULL: discard). */
    void *elem;
    /** The case's index in its party. */
    int32_t index;
    /** 1 for a send. */
    int32_t is_send;
} sp_waiter;

/** One blocked party. */
typedef struct sp_party {
    /** 0 while waiting; set once by whoever completes or cancels it. */
    int32_t claimed;
    /** SP_PARTY_*. */
    int32_t kind;
    /** The case performed (its index), set by the completer. */
    int32_t chosen;
    /** SP_OK, SP_ECLOSED (a send on a closed channel), SP_ESTALE (what it
        waited on was released), SP_ECANCELED. */
    int32_t result;
    /** For a receive: 1 for a value, 0 for a closed channel's zero value. */
    int32_t ok;
    /** Its cases: waiters[0 .. ncases). */
    int32_t ncases;
    sp_waiter *waiters;
    /** A goroutine party: the goroutine, and the sched that readies it. */
    sp_g *g;
    sp_sched *sched;
    /** A managed party: the host's token for it. */
    uint64_t token;
    /** A thread party: its wake word. */
    int32_t wake;
    /** Why it waits (SP_WAIT_*). */
    int32_t wait_reason;
    /** Set while it counts in its sched's outside waits. */
    int32_t outside;
    /** Set when a cancellation may race with completion (host parties). */
    int32_t reserved;
    /** A sleeping party's timer (libspindle's record, in room the party's
        owner gives it), or NULL. */
    void *timer;
    /** Links completed parties for their waker. */
    struct sp_party *next_woken;
} sp_party;

/** What a host call woke that the host finishes. */
typedef struct sp_wakes {
    /** Managed parties completed, a list through next_woken: resolve each. */
    sp_party *managed;
    /** Goroutines made runnable (into the caller's P, or the global queue):
        when nonzero, the host looks for an idle worker to run them. */
    int32_t readied;
    int32_t reserved;
} sp_wakes;

/** The bytes an sp_timer takes, for host parties that sleep (the record is
    libspindle's; the host only gives it room). */
#define SP_TIMER_BYTES 64

/** Prepares a host party of kind SP_PARTY_MANAGED (token given back when it
    is completed) or SP_PARTY_THREAD, with ncases waiters at waiters: one per
    case of a select, one for anything else (a send, a receive, a lock, a
    wait group wait; a sleep uses none). Once is enough for any number of
    operations of the same kind and cases: each host call that queues the
    party readies what its completion writes afresh. The waiters need no
    clearing: libspindle fills each one it queues. Errors: SP_EINVAL (NULL,
    bad kind, ncases negative, waiters NULL with ncases > 0). @trivial */
SP_API int sp_party_init(sp_party *p, int32_t kind, uint64_t token, sp_waiter *waiters, int32_t ncases);

/** Cancels a waiting host party: it leaves every queue it joined and is
    never completed; its result becomes SP_ECANCELED. Returns SP_OK, or
    SP_ESTATE when it was already completed (its result stands). A thread
    party's waiting thread wakes. @trivial */
SP_API int sp_party_cancel(sp_party *p);

/** Finishes a completed select party: takes its other cases out of their
    queues. The host calls it before it reuses the party's memory. @trivial */
SP_API void sp_party_finish(sp_party *p);

/** Blocks the calling thread until p, a thread party, is completed or
    cancelled; returns its result. Not on a goroutine. */
SP_API int sp_party_wait(sp_party *p);

/* ------------------------------------------------------------------------ */
/* The engine, for host parties                                             */
/* ------------------------------------------------------------------------ */

/*
 * The calls a managed goroutine, async code or a plain thread makes on
 * channels, select, mutexes, wait groups and timers. here is the run queue
 * of the P the calling worker holds (goroutines readied go to its runnext),
 * or NULL for a thread without one (they go to the global queue). party is
 * the host party to park when the operation must wait, or NULL to try only.
 * Each returns SP_OK when the operation was performed, SP_PARKED when the
 * party now waits (the host resolves it later), SP_WOULD_BLOCK when there
 * was no party to park, or an SP_E* error; what it woke is added to out.
 * None of them blocks (a party that must wait is queued and the call
 * returns), switches stacks or calls back: they may skip the GC transition
 * (@trivial), which is most of what a managed operation costs otherwise.
 */

/** Results of the engine calls besides SP_OK and the errors. */
enum {
    SP_PARKED = 1,
    SP_WOULD_BLOCK = 2
};

/** Makes a channel that C# owns (made outside the runtime's goroutines; it
    is released with sp_host_release). Errors as sp_chan_make. */
SP_API int sp_host_chan_make(sp_chan *out, int32_t elem_size, int32_t capacity);

/** sp_chan_send for a host party. @trivial */
SP_API int sp_host_chan_send(sp_runq *here, sp_chan ch, const void *elem, sp_party *party, sp_wakes *out);

/** sp_chan_recv for a host party: *ok as sp_chan_recv sets it when
    performed at once, else in party->ok when completed. @trivial */
SP_API int sp_host_chan_recv(sp_runq *here, sp_chan ch, void *elem, bool *ok, sp_party *party, sp_wakes *out);

/** sp_chan_close. @trivial */
SP_API int sp_host_chan_close(sp_runq *here, sp_chan ch, sp_wakes *out);

/** sp_chan_len (0 for the nil channel), or an error. @trivial */
SP_API int sp_host_chan_len(sp_chan ch);
/** sp_chan_cap (0 for the nil channel), or an error. @trivial */
SP_API int sp_host_chan_cap(sp_chan ch);

/** The element size of a channel, or an error. */
SP_API int sp_host_chan_elem_size(sp_chan ch);

/** A snapshot of ch's queues: how many waiters its senders and receivers
    have in them (either pointer may be NULL). Returns 1 when ch is closed,
    0 when open, or an error (SP_EINVAL, SP_ESTALE). A waiter whose select
    was just completed elsewhere may still be counted until its party is
    finished. For the host's writer that waits for room, and for tests that
    nothing is left queued. @trivial */
SP_API int sp_host_chan_waiters(sp_chan ch, int32_t *senders, int32_t *receivers);

/** sp_select for a host party: with block false, the default case. The case
    performed goes to *chosen (ncases for the default). @trivial */
SP_API int sp_host_select(sp_runq *here, sp_case *cases, int ncases, bool block, int *chosen,
                          sp_party *party, sp_wakes *out);

/** A channel C# owns that receives the time once after nanoseconds (a
    negative value or SP_MAX_DURATION... see sp_after), on here's timer heap,
    or the first processor's of the running runtime when here is NULL; with
    no runtime running, the channel's timer waits for sp_host_fire (the host
    drives it). forever makes one that never fires. */
SP_API int sp_host_after(sp_runq *here, int64_t nanoseconds, bool forever, sp_chan *out);

/** A ticker channel C# owns (period_ns > 0), placed as sp_host_after's. */
SP_API int sp_host_ticker_make(sp_runq *here, int64_t period_ns, sp_chan *out);

/** sp_ticker_stop. */
SP_API int sp_host_ticker_stop(sp_chan ticker);

/** Sends the time on a timer channel whose timer no runtime serves (made
    while none ran); returns the nanoseconds until its next tick, 0 when it
    is done. */
SP_API int64_t sp_host_fire(sp_chan timer, sp_wakes *out);

/** Parks party (a managed goroutine's sleep) for nanoseconds on here's timer
    heap; timer is room for its timer (SP_TIMER_BYTES). Returns SP_PARKED.
    @trivial */
SP_API int sp_host_sleep(sp_runq *here, int64_t nanoseconds, void *timer, sp_party *party);

/** A mutex C# owns (released with sp_host_release). Errors: SP_EINVAL
    (out NULL), SP_ENOMEM. */
SP_API int sp_host_mutex_make(sp_mutex *out);
/** sp_mutex_lock for a host party. @trivial */
SP_API int sp_host_mutex_lock(sp_runq *here, sp_mutex m, sp_party *party, sp_wakes *out);
/** sp_mutex_unlock. @trivial */
SP_API int sp_host_mutex_unlock(sp_runq *here, sp_mutex m, sp_wakes *out);
/** A wait group C# owns (released with sp_host_release). Errors:
    SP_EINVAL (out NULL), SP_ENOMEM. */
SP_API int sp_host_wg_make(sp_wg *out);
/** sp_wg_add. @trivial */
SP_API int sp_host_wg_add(sp_runq *here, sp_wg wg, int64_t delta, sp_wakes *out);
/** sp_wg_wait for a host party. @trivial */
SP_API int sp_host_wg_wait(sp_runq *here, sp_wg wg, sp_party *party, sp_wakes *out);
/** The counter, or an error. @trivial */
SP_API int64_t sp_host_wg_count(sp_wg wg);

/** Releases an object C# owns (its C# object was collected, or released
    early): parties still waiting on it are woken with SP_ESTALE. Errors:
    SP_ESTALE, SP_EINVAL (an object a goroutine made: it is theirs). */
SP_API int sp_host_release(uint64_t handle, sp_wakes *out);

/** Marks an object a goroutine made as named by C# (FromHandle): goroutines
    waiting on it no longer count towards a deadlock. Errors: SP_EINVAL,
    SP_ESTALE. */
SP_API int sp_host_mark_outside(uint64_t handle);

/** Whether handle names a live object of kind (SP_HANDLE_*): SP_OK,
    SP_EINVAL (another kind), SP_ESTALE. @trivial */
SP_API int sp_host_check(uint64_t handle, int32_t kind);

/** Kinds of objects a handle names. */
enum {
    SP_HANDLE_CHAN = 1,
    SP_HANDLE_MUTEX = 2,
    SP_HANDLE_WAIT_GROUP = 3
};

/* ------------------------------------------------------------------------ */
/* Timers and wakes, for the scheduler                                      */
/* ------------------------------------------------------------------------ */

/** Runs the timers of q's heap that are due (the caller holds some P, here,
    whose queue readied goroutines go to). */
SP_API void sp_host_run_timers(sp_runq *q, sp_runq *here, sp_wakes *out);

/** The earliest deadline in q's timer heap (sp_clock_now nanoseconds), or
    INT64_MAX. @trivial */
SP_API int64_t sp_host_next_timer(const sp_runq *q);

/** The word sp_host_next_timer reads, for a scheduler that looks on every
    round without a call (a snapshot: run the timers to act on it). NULL for
    a NULL q. @trivial */
SP_API const int64_t *sp_host_timer_deadline(const sp_runq *q);

/** Moves every timer of from's heap to to's (a P retires); with to NULL
    they leave from's heap and never fire (a runtime stops). */
SP_API void sp_host_move_timers(sp_runq *from, sp_runq *to);

/** Takes a native goroutine that the runtime discards (it stops) out of
    whatever it waits in: its waiters leave their queues, its sleep's timer
    its heap. */
SP_API void sp_host_discard(sp_g *g);

/** Completes the park a goroutine asked for with SP_OP_PARK (req): it waits
    from now on, and what it locked to queue itself is released. */
SP_API void sp_host_commit_park(sp_g *g, sp_request *req);

/** The stack memory coroutines hold now, over every thread: bytes of
    segments (segmented stacks), usable bytes of reserved stacks (address
    space: their pages are committed as they are touched), and how many
    segments running stacks have grown by, ever. Any out pointer may be
    NULL. A snapshot, summed when read. @trivial */
SP_API void sp_stack_stats(int64_t *segmented, int64_t *reserved, int64_t *grown);

/* ------------------------------------------------------------------------ */
/* The switch trace                                                         */
/* ------------------------------------------------------------------------ */

/*
 * While a trace runs, every thread that runs goroutines writes records
 * into batches of its own, with no lock: each switch (who left, who
 * ran next, why, when, and what the switch cost in each of its parts),
 * goroutines created, ended, blocked and readied, and the host's marks (a
 * worker idle, spinning, holding a processor). Full batches are numbered and
 * published; the host takes them (sp_trace_take), writes them out and gives
 * them back. A thread that finds no free batch drops its records and counts
 * them (sp_trace_batch.dropped_before, sp_trace_stats.dropped). In
 * flight-recorder mode the oldest published batch is reused instead, so
 * the last buffer_bytes of the trace stay in memory until they are taken.
 * Timestamps are the processor's counter (rdtsc on x86-64, cntvct_el0 on
 * AArch64, QueryPerformanceCounter on Windows); each batch carries what turns
 * them into nanoseconds of sp_clock_now.
 *
 * A batch holds its records compactly (a switch takes about 12 bytes, not
 * the 64 of its two records): a batch's bytes are what the host sends, and
 * sp_trace_decode turns them back into the records below, which are what
 * every reader works with. The compact form is libspindle's alone: it writes
 * it and reads it, and may change it between versions.
 */

/** sp_trace_record.kind. */
enum {
    /** a left its thread and b ran next; a 0: the thread came from idle (or
        from no goroutine), b 0: the switch ended in the host with nothing to
        run. ticks: when b began to run. Followed by its SP_TRACE_PARTS. */
    SP_TRACE_SWITCH = 1,
    /** The parts of the switch before it (sp_trace_parts). */
    SP_TRACE_PARTS = 2,
    /** a was created by b (0: by the host or a thread). */
    SP_TRACE_CREATE = 3,
    /** a finished. */
    SP_TRACE_EXIT = 4,
    /** a parked on object b (a handle; 0: several, or none), wait_reason why. */
    SP_TRACE_BLOCK = 5,
    /** a was made runnable by b (0: the host, a timer or a thread). */
    SP_TRACE_UNBLOCK = 6,
    /** The thread has nothing to run and parks. */
    SP_TRACE_IDLE = 7,
    /** The thread looks for work (steals, runs other processors' timers). */
    SP_TRACE_SPIN = 8,
    /** a enters (why 1) or leaves (why 0) a blocking call. */
    SP_TRACE_BLOCKING = 9,
    /** a's stack grew by a segment of b bytes (a 0: not known). */
    SP_TRACE_STACK = 10,
    /** The thread holds processor a from now on (-1: none). */
    SP_TRACE_PROC = 11
};

/** sp_trace_record.why of SP_TRACE_SWITCH: why a left. */
enum {
    SP_TRACE_YIELD = 1,    /**< a yield (sp_gosched, Yield) */
    SP_TRACE_PARKED = 2,   /**< it parked (wait_reason says on what) */
    SP_TRACE_EXITED = 3,   /**< it finished */
    SP_TRACE_CALL = 4,     /**< a runtime call the host served (a == b when it goes on) */
    SP_TRACE_STOPPED = 5,  /**< the run loop stopped (budget spent, a full ring) */
    SP_TRACE_STEP = 6      /**< a managed goroutine's step ended */
};

/** sp_trace_record.flags (and sp_trace_parts.flags). */
enum {
    /** The goroutine landed where nothing stamps (a runtime call's return, a
        first run): the switch ends at its resume, the restore not timed. */
    SP_TRACE_F_RESTORE_UNTIMED = 1,
    /** A part was longer than 2^32 ticks and holds that. */
    SP_TRACE_F_SATURATED = 2,
    /** Straight from one goroutine to the next (a direct switch). */
    SP_TRACE_F_DIRECT = 4,
    /** Through the run loop on the thread's own stack. */
    SP_TRACE_F_VIA_LOOP = 8,
    /** Through the host (the managed scheduler). */
    SP_TRACE_F_VIA_HOST = 16,
    /** Not timed: a direct switch carries its end alone, its parts 0. One
        direct switch in about 16, chosen at random, is timed: reading the
        counter at both ends of every one would cost more than the switch. */
    SP_TRACE_F_UNTIMED = 32
};

/** One direct switch in this many, on average, is timed (SP_TRACE_F_UNTIMED):
    a reader weighs each timed direct switch so against the others, which are
    timed always. */
#define SP_TRACE_TIME_EVERY 16

/** One record, as sp_trace_decode gives it: 32 bytes. */
typedef struct sp_trace_record {
    /** The counter when it happened (a switch: when b began to run). */
    uint64_t ticks;
    /** Goroutine ids and such, per kind. */
    int64_t a;
    int64_t b;
    /** SP_TRACE_* kind. */
    uint8_t kind;
    /** Per kind (a switch: SP_TRACE_YIELD ...). */
    uint8_t why;
    /** SP_WAIT_* of a switch or block whose goroutine parked. */
    uint8_t wait_reason;
    /** SP_TRACE_F_*. */
    uint8_t flags;
    /** The processor the thread held (-1: none, or not told). */
    int32_t processor;
} sp_trace_record;

/** The parts of a switch, in ticks (sp_trace_parts.ticks). They add up to
    the switch's whole cost, from its goroutine's leaving to the next one's
    running; parts a path does not take are 0. */
enum {
    SP_TRACE_PART_SAVE_RESTORE = 0, /**< saving and restoring registers, switching stacks */
    SP_TRACE_PART_DECISION = 1,     /**< the run loop's work: queues, timers, picking the next */
    SP_TRACE_PART_TO_HOST = 2,      /**< the run loop's return into the host (native to managed) */
    SP_TRACE_PART_HOST = 3,         /**< the host's scheduler work */
    SP_TRACE_PART_FROM_HOST = 4,    /**< the host's call into the run loop (managed to native) */
    SP_TRACE_PART_COUNT = 5
};

/** The record after each SP_TRACE_SWITCH: its parts. kind, flags and
    processor sit where a record has them. */
typedef struct sp_trace_parts {
    uint32_t ticks[5];
    uint32_t reserved;
    uint8_t kind;
    uint8_t why;
    uint8_t wait_reason;
    uint8_t flags;
    int32_t processor;
} sp_trace_parts;

/** The bytes of a batch's records: at most 56 KiB, so that a batch leaves in
    one EventSource event under ETW's and EventPipe's 64 KiB limit. */
#define SP_TRACE_BATCH_DATA 57344

/** The most records one batch decodes to (a record takes at least 4 bytes). */
#define SP_TRACE_BATCH_RECORDS (SP_TRACE_BATCH_DATA / 4)

/** Where a batch's bytes begin, from the batch's own address. */
#define SP_TRACE_BATCH_HEADER 64

/** A batch of one thread's records. */
typedef struct sp_trace_batch {
    /** 1, 2, ... in the order batches were published since sp_trace_start. */
    uint64_t seq;
    /** Records the thread dropped, finding no free batch, before this one. */
    uint64_t dropped_before;
    /** ticks_per_second, origin_ticks and origin_ns turn a record's ticks into
        sp_clock_now nanoseconds: origin_ns + (ticks - origin_ticks) * 1e9 /
        ticks_per_second. The rate is refined as the trace goes on. */
    uint64_t ticks_per_second;
    uint64_t origin_ticks;
    int64_t origin_ns;
    /** The writing thread's number in this trace (1, 2, ...). */
    uint32_t thread;
    /** The records it decodes to (sp_trace_decode). */
    uint32_t count;
    struct sp_trace_batch *next;
    /** The bytes its records take, at SP_TRACE_BATCH_HEADER from the batch's
        address, in the same block of memory. */
    uint32_t bytes;
    uint32_t reserved;
} sp_trace_batch;

/** The memory one batch takes, its records included: a trace's buffer holds
    buffer_bytes / SP_TRACE_BATCH_BYTES of them. */
#define SP_TRACE_BATCH_BYTES (SP_TRACE_BATCH_HEADER + SP_TRACE_BATCH_DATA)

/** Decodes count records from a batch's bytes (data, bytes of them; origin:
    the batch's origin_ticks) into out, which has room for cap: each switch
    as its SP_TRACE_SWITCH record followed by its SP_TRACE_PARTS. Works on a
    copy of the bytes too (a batch read back from a file). Returns count, or
    SP_EINVAL when the bytes do not hold count records (truncated, damaged or
    not a batch's) or cap is too small. */
SP_API int64_t sp_trace_decode(const uint8_t *data, int64_t bytes, int64_t count, uint64_t origin_ticks,
                               sp_trace_record *out, int64_t cap);

/** What sp_trace_get_stats reports. */
typedef struct sp_trace_stats {
    uint64_t records;             /**< records written (a switch with its parts counts once) */
    uint64_t dropped;             /**< records dropped for want of a free batch */
    uint64_t overwritten_batches; /**< flight recorder: old batches reused */
    uint64_t published_batches;
    uint64_t ticks_per_second;
    /** What one traced direct switch adds to the switch path on average (a
        read of the counter and its record; a second read on the timed one in
        about 16), in ticks, measured when the trace started. */
    uint64_t stamp_ticks;
    int64_t buffer_bytes;
    int32_t active;
    int32_t flight;
    /** 0 in a libspindle built with SPINDLE_TRACE=0 (the tracer compiled out). */
    int32_t compiled;
    int32_t reserved;
} sp_trace_stats;

/** Starts a trace with about buffer_bytes of batches (at least one); flight
    1 for the flight recorder. Errors: SP_EINVAL, SP_ESTATE (a trace is
    starting, running, stopping or was not released), SP_ENOMEM, SP_ENOTSUP
    (compiled out). Start, stop and release may be called from any threads:
    each refuses with SP_ESTATE what another is in the middle of. */
SP_API int sp_trace_start(int64_t buffer_bytes, int32_t flight);

/** Stops recording: every thread's batch in progress is published, and the
    published batches wait to be taken. SP_ESTATE when none runs (or another
    call is stopping it). */
SP_API int sp_trace_stop(void);

/** Takes the oldest published batch, or NULL. @trivial */
SP_API sp_trace_batch *sp_trace_take(void);

/** Gives a batch that was taken back to the pool. @trivial */
SP_API void sp_trace_give(sp_trace_batch *b);

/** Frees the batches of a stopped trace, and zeroes its counts
    (sp_trace_get_stats); every batch taken must have been given back.
    SP_ESTATE while one starts, runs or stops, or when there is none. */
SP_API int sp_trace_release(void);

/** The trace's counts. @trivial */
SP_API void sp_trace_get_stats(sp_trace_stats *out);

/** The word that is nonzero while a trace runs, for a host that looks before
    it calls. Never NULL. @trivial */
SP_API const int32_t *sp_trace_active_word(void);

/** The counter records are stamped with. @trivial */
SP_API uint64_t sp_trace_now(void);

/** sp_trace_mark's marks: what the host tells the tracer about the thread
    that calls it. */
enum {
    SP_TRACE_MARK_HOST_IN = 1,     /**< back in the host from sp_runq_run */
    SP_TRACE_MARK_HOST_OUT = 2,    /**< about to call sp_runq_run */
    SP_TRACE_MARK_IDLE = 3,        /**< the worker parks: nothing to run */
    SP_TRACE_MARK_SPIN = 4,        /**< the worker looks for work */
    SP_TRACE_MARK_PROCESSOR = 5,   /**< the worker holds processor a (-1: none) */
    SP_TRACE_MARK_RUN_MANAGED = 6, /**< a managed goroutine a's step begins */
    SP_TRACE_MARK_STEP_END = 7     /**< managed goroutine a's step ended (b: SP_TRACE_YIELD ...) */
};

/** Tells the tracer what the calling thread does (SP_TRACE_MARK_*); nothing
    while no trace runs. @trivial */
SP_API void sp_trace_mark(int32_t mark, int64_t a, int64_t b);

/** Writes one record of kind (SP_TRACE_CREATE ...) for the host; nothing
    while no trace runs. @trivial */
SP_API void sp_trace_record_event(int32_t kind, int64_t a, int64_t b, int32_t why, int32_t wait_reason);

#ifdef __cplusplus
}
#endif

#endif /* SPINDLE_HOST_H */
