/* A processor's local run queue (Go's runq) and what else a processor keeps
   natively (its timers, its managed wakes, its share of the sched): shared
   by the queue operations, the run loop and the scheduler's native half. */
#ifndef SPINDLE_RUN_QUEUE_H
#define SPINDLE_RUN_QUEUE_H

#include "timer.h"

#include <stdatomic.h>

/* Free records a P keeps, at most. */
#define SP_RUNQ_FREE_MAX 64

/* The words other threads touch sit on cache lines of their own, as Go's
   runnext sits after the ring, away from head and tail: a thief looking at
   head and tail does not take the line of runnext, which the owner exchanges
   on every spawn, or of the words the owner writes on every switch. (At
   GOMAXPROCS=2 the spawner's runnext exchange was a fifth of the samples of
   a spawn-and-finish; with these lines and thieves that take runnext only on
   their last pass, about a seventh: the exchange also waits for the stores
   to the new, cold record before it.) */
#define SP_RUNQ_LINE 64

struct sp_runq {
    /* Consumers (the owner and thieves) move head by CAS; only the owner
       writes tail and the ring slots at and after it. Slots are atomics
       because a thief reads them while the owner may already reuse them (its
       CAS on head then fails and it reads again). */
    _Alignas(SP_RUNQ_LINE) _Atomic uint32_t head;
    _Atomic uint32_t tail;
    _Alignas(SP_RUNQ_LINE) sp_g *_Atomic next;
    /* The processor status word: (generation << 8) | state. */
    _Alignas(SP_RUNQ_LINE) _Atomic int64_t status;
    /* 1 while the run loop, between two goroutines, works on the queue with
       the status word left at IN_GOROUTINE (run_loop.c explains the
       handshake with the monitor). */
    _Atomic int32_t busy;
    _Atomic uint64_t switches;
    /* Schedules the run loop makes before it looks at the global queue first
       again (owner only): Go's every 61st schedtick, counted down. */
    int32_t global_turn_in;
    /* When the current time slice began (coarse ms; owner only): runnext
       hand-offs inherit it, as Go's inheritTime does. */
    int64_t slice_start_ms;
    /* Managed parties completed by goroutines in the run loop, for the host
       (owner only; handed over in sp_run_result.wakes). */
    sp_party *wakes;
    /* The P's share of its sp_sched (sched.c), owner only: free records, a
       block of goroutine ids, and how many goroutines it started minus how
       many it finished (written by the owner alone, read by anyone). */
    struct sp_sched *sched;
    sp_runq *sched_next;      /* the sched's list of attached queues */
    int32_t free_count;
    sp_g *free_recs[SP_RUNQ_FREE_MAX]; /* a stack: the last given back on top */
    int64_t id_next, id_end;
    _Atomic int64_t live;
    /* The last entry the run loop spawned, with the stack flags its check
       gave (sp_sched_init_g_on): a loop that spawns the same function again
       and again checks it once. */
    sp_fn checked_fn;
    int32_t checked_flags;
    void *allocation; /* what sp_runq_create allocated: the queue is aligned in it */
    /* A select's block the processor keeps for the next one (select.c). */
    void *select_block;
    /* The processor's timers (any thread adds to them, under their lock). */
    _Alignas(SP_RUNQ_LINE) sp_timers timers;
    _Alignas(SP_RUNQ_LINE) sp_g *_Atomic ring[SP_RUNQ_CAPACITY];
};

/* ---- records, free lists and the global queue (sched.c) -------------------- */

/* sp_sched_new_g and sp_sched_free_g for the run loop's own spawns and exits. */
SP_HIDDEN sp_g *sp_sched_take_g(sp_runq *q);
SP_HIDDEN void sp_sched_give_g(sp_runq *q, sp_g *g);
/* sp_g_init_native and sp_g_start with q's sched. */
SP_HIDDEN int sp_sched_init_g(struct sp_sched *s, sp_g *g, sp_fn fn, void *arg);
SP_HIDDEN int sp_sched_start_g(struct sp_sched *s, sp_g *g);
/* Starts g, when it is a fresh goroutine of segmented code, on finished, a
   goroutine's coroutine that just finished (sp_coro_reuse); 0 otherwise,
   leaving both alone. */
SP_HIDDEN int sp_sched_start_g_on(sp_g *g, sp_coro *finished);
/* sp_sched_init_g for the run loop's spawns on q, whose check of fn is kept
   for the next spawn of the same fn. */
SP_HIDDEN int sp_sched_init_g_on(sp_runq *q, sp_g *g, sp_fn fn, void *arg);
/* sp_runq_put_spill for the run loop. */
SP_HIDDEN void sp_sched_put_spill(sp_runq *q, sp_g *g, int next);
/* Counts parked goroutines whose wait a thread outside may end. */
SP_HIDDEN void sp_sched_outside_add(sp_sched *s, int64_t delta);
/* Adds managed parties completed without a P to s's list for the host. */
SP_HIDDEN void sp_sched_add_wakes(sp_sched *s, sp_party *list);

/* ---- the run loop, for the goroutine calls and parking (run_loop.c) ------- */

/* The run loop running on this thread (one call of sp_runq_run). */
typedef struct sp_run_ctx {
    sp_runq *q;
    sp_g *current;          /* the goroutine being resumed */
    sp_coro *current_coro;  /* its coroutine (one load less for sp_run_current) */
    int64_t entered;        /* the status word while a goroutine runs */
    int64_t switches;       /* made by this call of sp_runq_run */
    int32_t budget;
    int32_t may_switch;     /* IN_GOROUTINE: the loop serves what goroutines do */
    /* Set by a goroutine that parked and went back through the loop (not a
       direct switch): what the loop releases once it is out. */
    sp_unlock_fn park_unlock;
    void *park_arg;
    int32_t parked;
} sp_run_ctx;

extern SP_HIDDEN SP_THREAD_LOCAL sp_run_ctx *sp_tls_run;

/* The goroutine the run loop is running on this thread, when the caller is
   that goroutine, with its queue (*q); else NULL. may_switch: the loop holds
   the P with the status word at IN_GOROUTINE (not a blocking section). Inline:
   every goroutine call asks. */
static inline sp_g *sp_run_current(sp_runq **q, int *may_switch)
{
    sp_run_ctx *c = sp_tls_run;
    if (c == NULL || c->current_coro != sp_current())
        return NULL;
    if (q != NULL)
        *q = c->q;
    if (may_switch != NULL)
        *may_switch = c->may_switch;
    return c->current;
}

/* The queue work of the loop's goroutine, and of the loop between two
   goroutines: while it holds the P, the loop raises busy with a plain store
   and reads the status word with a plain load; the monitor, after its CAS,
   issues a process-wide memory barrier and waits until busy is down
   (run_loop.c explains the handshake). 1 with the P held and q usable until
   the work ends; 0 when the P was taken. */
static inline int sp_run_queue_work_begin(const sp_run_ctx *c)
{
    atomic_store_explicit(&c->q->busy, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst); /* the monitor's membarrier does the rest */
    return atomic_load_explicit(&c->q->status, memory_order_relaxed) == c->entered;
}

static inline void sp_run_queue_work_end(const sp_run_ctx *c)
{
    atomic_store_explicit(&c->q->busy, 0, memory_order_release);
}

/* sp_run_queue_work_begin for the calling goroutine; when it fails the work
   is already ended. */
static inline int sp_run_begin_work(void)
{
    sp_run_ctx *c = sp_tls_run;
    if (sp_run_queue_work_begin(c))
        return 1;
    sp_run_queue_work_end(c);
    return 0;
}

static inline void sp_run_end_work(void) { sp_run_queue_work_end(sp_tls_run); }

/* The sched of the calling goroutine, or NULL when the caller is not one of
   a running runtime (the owner of what it makes). */
static inline sp_sched *sp_current_sched(void)
{
    sp_runq *q = NULL;
    return sp_run_current(&q, NULL) != NULL ? q->sched : NULL;
}

/* The wake context of the calling goroutine, whose queue q (from
   sp_run_current) its loop holds when may_switch: its P's runnext while the
   queue work holds (sp_wake_ctx_end ends it), else no P. Managed parties it
   completes go to its P's list, or its sched's. */
static inline void sp_wake_ctx_begin_on(sp_wake_ctx *c, sp_runq *q, int may_switch)
{
    c->q = NULL;
    c->sched = q->sched;
    c->in_loop = 0;
    c->readied = 0;
    c->pending = NULL;
    c->managed = NULL;
    if (may_switch && sp_run_begin_work()) {
        c->q = q;
        c->in_loop = 1;
    }
}

/* sp_wake_ctx_begin_on for the calling goroutine, or no context at all
   (q NULL, no sched) when the caller is not one. */
static inline void sp_wake_ctx_begin(sp_wake_ctx *c)
{
    sp_runq *q = NULL;
    int may_switch = 0;
    if (sp_run_current(&q, &may_switch) != NULL) {
        sp_wake_ctx_begin_on(c, q, may_switch);
        return;
    }
    *c = (sp_wake_ctx){ 0 };
}

static inline void sp_wake_ctx_end(sp_wake_ctx *c)
{
    if (c->in_loop) {
        /* The P's list, which the loop hands to the host when it stops. */
        while (c->managed != NULL) {
            sp_party *p = c->managed;
            c->managed = p->next_woken;
            p->next_woken = c->q->wakes;
            c->q->wakes = p;
        }
        sp_run_end_work();
    } else if (c->managed != NULL) {
        sp_sched_add_wakes(c->sched, c->managed);
        c->managed = NULL;
    }
}

/* Readies p for one wait of kind with ncases waiters at waiters, by goroutine
   g of sched s (NULL for a host's party): every field a completer reads. */
static inline void sp_party_reset(sp_party *p, int32_t kind, sp_g *g, sp_sched *s, sp_waiter *waiters,
                                  int32_t ncases)
{
    p->claimed = 0;
    p->kind = kind;
    p->chosen = -1;
    p->result = SP_OK;
    p->ok = 0;
    p->ncases = ncases;
    p->waiters = waiters;
    p->g = g;
    p->sched = s;
    p->outside = 0;
    p->timer = NULL;
    p->next_woken = NULL;
}

/* Makes p a party of goroutine g (of q's sched) with ncases waiters at
   waiters, for it to park with. */
static inline void sp_party_of(sp_party *p, sp_g *g, sp_runq *q, sp_waiter *waiters, int32_t ncases)
{
    sp_party_reset(p, SP_PARTY_GOROUTINE, g, q->sched, waiters, ncases);
}

/* Makes p a party of the calling goroutine; returns its record, or NULL when
   the caller is not a goroutine of a running runtime. */
static inline sp_g *sp_party_of_goroutine(sp_party *p, sp_waiter *waiters, int32_t ncases)
{
    sp_runq *q = NULL;
    sp_g *g = sp_run_current(&q, NULL);
    if (g != NULL)
        sp_party_of(p, g, q, waiters, ncases);
    return g;
}

/* Readies g on the loop's P (inside its queue work): runnext, the one it
   displaces to the ring, half of a full ring to the global queue. */
SP_HIDDEN void sp_run_ready(sp_g *g);
/* sp_gosched inside the run loop: 1 with the answer once the caller runs
   again; 0 when the loop cannot switch for it (the runtime serves it). */
SP_HIDDEN int sp_run_yield(int *answer);
/* Switches out the calling goroutine, parked (its state and party set by
   sp_park), and releases what unlock(arg) releases once it is switched
   out. Returns 1 when resumed; 0, having done nothing, when the loop cannot
   park it (no P): the caller parks through the runtime (SP_OP_PARK). */
SP_HIDDEN int sp_run_park(sp_unlock_fn unlock, void *arg);
/* sp_go inside the run loop: 1 with the answer; 0 when the runtime must
   serve it (not in the loop, the P taken). */
SP_HIDDEN int sp_run_spawn(sp_fn fn, void *arg, int *result);

/* Whether g is a native goroutine that has not run yet. */
static inline int runq_fresh(const sp_g *g) { return g->coro == NULL && g->fn != NULL; }

static inline uint32_t runq_head(sp_runq *q)
{
    return atomic_load_explicit(&q->head, memory_order_acquire);
}

/* Appends g at the tail if there is room (owner only); 0 when full. */
static inline int runq_push_tail(sp_runq *q, sp_g *g)
{
    uint32_t h = runq_head(q);
    uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (t - h >= SP_RUNQ_CAPACITY)
        return 0;
    atomic_store_explicit(&q->ring[t % SP_RUNQ_CAPACITY], g, memory_order_relaxed);
    atomic_store_explicit(&q->tail, t + 1, memory_order_release);
    return 1;
}

/* The fields of a record that runq_resumable reads (hold, coro, fn, flags)
   are read and written with these. runq_take looks at the next entry of a
   queue before it takes it, and a thief may have taken that entry meanwhile
   and be starting, running or finishing its goroutine, or reusing the
   record: the owner's CAS then fails and what it read is dropped (only the
   owner puts into its queue, so the entry cannot come back meanwhile), but
   the reads meet those writes, so both sides are relaxed atomics (plain
   loads and stores on every CPU). */
#define runq_g_load(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define runq_g_store(field, value) __atomic_store_n(&(field), (value), __ATOMIC_RELAXED)

/* Whether the run loop may resume g itself (direct: by a direct switch,
   which lands in the loop's leave(), so g must have been suspended there). */
static inline int runq_resumable(const sp_g *g, int direct)
{
    if (runq_g_load(g->hold) != 0)
        return 0;
    if (runq_g_load(g->coro) == NULL) /* a fresh one is started first: never by a direct switch */
        return !direct && runq_g_load(g->fn) != NULL;
    return !direct || (runq_g_load(g->flags) & SP_G_IN_LOOP);
}

/* The next goroutine, runnext first (owner only); NULL when empty. With
   only_resumable, only one the run loop may resume itself (runq_resumable),
   and NULL while the next one stays queued for the scheduler. Peeking first
   is safe: the CAS that takes an entry succeeds only if it is still the one
   looked at. */
static inline sp_g *runq_take(sp_runq *q, int only_resumable, int direct)
{
    sp_g *next = atomic_load_explicit(&q->next, memory_order_acquire);
    if (next != NULL) {
        if (only_resumable && !runq_resumable(next, direct))
            return NULL;
        if (atomic_compare_exchange_strong_explicit(&q->next, &next, NULL, memory_order_acq_rel,
                                                    memory_order_acquire))
            return next;
        /* A thief took it: the ring is next. */
    }
    for (;;) {
        uint32_t h = runq_head(q);
        uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
        if (h == t)
            return NULL;
        sp_g *g = atomic_load_explicit(&q->ring[h % SP_RUNQ_CAPACITY], memory_order_relaxed);
        if (only_resumable && !runq_resumable(g, direct))
            return NULL;
        if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1, memory_order_release,
                                                  memory_order_relaxed))
            return g;
    }
}

#endif
