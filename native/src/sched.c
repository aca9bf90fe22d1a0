/*
 * The scheduler's native half (sp_sched), after Go's allgs, gfget/gfput,
 * goidcache and globrunq (runtime/proc.go).
 *
 * What it owns. Goroutine records (sp_g) and their free lists, goroutine
 * ids, the live count, the global run queue, the counts deadlock detection
 * reads (parked goroutines a thread outside could still wake, pending
 * timers), the managed wakes of goroutines that ran without a processor,
 * and the coarse clock. The managed scheduler (src/Spindle/Scheduler.cs)
 * owns everything else: workers, processors and their hand-offs, stealing,
 * the monitor, deadlock detection itself, managed goroutines.
 *
 * Why it is native. The run loop (run_loop.c) starts and finishes native
 * goroutines without the managed scheduler: a spawn takes a record from its
 * processor's free list and puts it in runnext, an exit gives it back and
 * hands its stack to the next fresh goroutine. A goroutine that goes through
 * the managed scheduler costs a trip into managed code; one that does not
 * costs a few dozen instructions. So records, ids and the live count must be
 * reachable from the run loop, and the managed descriptor of a record
 * (Goroutine) is made only when the managed scheduler first handles it.
 *
 * Invariants.
 *   - A record is in at most one place: a processor's free stack, the sched's
 *     free stack, a run queue or the global queue, or none (running, parked).
 *     So the global queue and the free stack, arrays with room for every
 *     record made, never overflow; a record queued twice is refused.
 *   - The live count is the sched's share plus each attached queue's; a
 *     queue's owner writes its own share with plain stores. The sum is exact
 *     only while no owner runs, which is when deadlock detection reads it.
 *   - Record chunks outlive their sched: the next runtime reuses them, with
 *     no page faults and no zeroing, as Go keeps every g.
 *
 * Alternatives rejected. Lists linked through the records (taking a batch
 * from the global queue walked cold records one after the other with the
 * lock held: 80% of its samples were on one load); ids from one atomic
 * counter (a locked add per spawn; a processor takes a block of 16).
 */
#include "run_queue.h"

#include <stdlib.h>
#include <string.h>

#define RECORD_CHUNK 4096
#define RECORD_CHUNKS 16384 /* 64 Mi records */
enum {
    LOCAL_FREE_KEEP = SP_RUNQ_FREE_MAX / 2, /* a P full of free records keeps half */
    ID_BLOCK = 16                           /* ids a P takes at a time */
};

/* The global run queue and the sched's free records are arrays of pointers,
   not lists linked through the records: taking a batch copies pointers and
   reads no record, where walking a list missed the cache once per record,
   one miss after the other, with the lock held. A record is in at most one
   of them, so both have room for every record made (room), grown with the
   records. */
struct sp_sched {
    sp_lock lock; /* the global queue, the free records, new records, attaching */
    sp_g **global;             /* a ring of room entries (a power of two) */
    int64_t global_head;
    _Atomic int64_t global_count;
    sp_g **free_recs;          /* a stack: the last given back on top */
    int64_t free_count;
    int64_t room;
    _Atomic int64_t records;
    _Atomic int64_t live;     /* beside the attached queues' shares */
    _Atomic int64_t next_id;
    sp_runq *queues;          /* attached: their shares of the live count, their timers */
    _Atomic int64_t outside_waits;
    sp_lock wakes_lock;
    sp_party *wakes;          /* managed parties completed without a P, for the host */
    sp_coro_options stacks;   /* for every native goroutine's coroutine */
    size_t segmented_max, reserved_max; /* the sizes they resolve to, per kind */
    sp_g *_Atomic chunks[RECORD_CHUNKS];
};

/* The coarse clock: milliseconds of sp_clock_now, advanced by the host's
   monitor once a millisecond. Goroutine records are stamped with it, and the
   run loop reads it on every switch (the clock itself is a system call on
   some machines). */
int64_t sp_clock_word;

int64_t *sp_clock_ms(void) { return &sp_clock_word; }

static int64_t now_ms(void) { return sp_coarse_ms(); }

int64_t sp_clock_tick(void)
{
    int64_t now = sp_clock_now();
    __atomic_store_n(&sp_clock_word, now / 1000000, __ATOMIC_RELAXED);
    return now;
}

/* Chunks of records outlive their sched: the next one reuses them, so a
   runtime that starts a million goroutines after another one did takes no
   page faults and zeroes nothing for its records (as Go keeps every g). */
typedef struct chunk_node {
    struct chunk_node *next;
} chunk_node;

static sp_lock chunk_pool_lock;
static chunk_node *chunk_pool;

static sp_g *take_chunk(void)
{
    sp_lock_acquire(&chunk_pool_lock);
    chunk_node *c = chunk_pool;
    if (c != NULL)
        chunk_pool = c->next;
    sp_lock_release(&chunk_pool_lock);
    /* Not zeroed: make_record and new_g set every field of a record. */
    return c != NULL ? (sp_g *)c : malloc(RECORD_CHUNK * sizeof(sp_g));
}

static void give_chunk(sp_g *chunk)
{
    chunk_node *c = (chunk_node *)chunk;
    sp_lock_acquire(&chunk_pool_lock);
    c->next = chunk_pool;
    chunk_pool = c;
    sp_lock_release(&chunk_pool_lock);
}

int sp_sched_create(sp_sched **out, int32_t stack_kind, size_t max_stack)
{
    if (out == NULL)
        return SP_EINVAL;
    *out = NULL;
    sp_coro_options stacks = { .flags = SP_CORO_GOROUTINE, .kind = stack_kind, .max_stack = max_stack };
    if (stack_kind < SP_STACK_DEFAULT || stack_kind > SP_STACK_SEGMENTED ||
        (max_stack != 0 && (max_stack < SP_MIN_MAX_STACK || max_stack > SP_MAX_MAX_STACK)))
        return SP_EINVAL;
    sp_sched *s = calloc(1, sizeof *s);
    if (s == NULL)
        return SP_ENOMEM;
    s->stacks = stacks;
    s->segmented_max = max_stack != 0 ? max_stack : SP_DEFAULT_MAX_SEGMENTED;
    s->reserved_max = max_stack != 0 ? max_stack : SP_DEFAULT_MAX_STACK;
    atomic_store(&s->next_id, 1);
    *out = s;
    return SP_OK;
}

int sp_sched_destroy(sp_sched *s)
{
    if (s == NULL)
        return SP_EINVAL;
    free(s->global);
    free(s->free_recs);
    for (int i = 0; i < RECORD_CHUNKS; i++) {
        sp_g *chunk = atomic_load_explicit(&s->chunks[i], memory_order_relaxed);
        if (chunk != NULL)
            give_chunk(chunk);
    }
    free(s);
    return SP_OK;
}

int sp_runq_attach(sp_runq *q, sp_sched *s)
{
    if (q == NULL || s == NULL)
        return SP_EINVAL;
    sp_lock_acquire(&s->lock);
    int err = SP_ESTATE;
    if (q->sched == NULL) {
        q->sched = s;
        q->slice_start_ms = 0;
        q->checked_fn = NULL; /* checked against another sched's options */
        q->sched_next = s->queues;
        s->queues = q;
        err = SP_OK;
    }
    sp_lock_release(&s->lock);
    return err;
}

/* ---- records ------------------------------------------------------------- */

/* Doubles the room of the global queue and the free stack (under s->lock);
   0 without memory, leaving both as they were. */
static int grow_room(sp_sched *s)
{
    int64_t room = s->room != 0 ? 2 * s->room : RECORD_CHUNK;
    sp_g **ring = malloc((size_t)room * sizeof *ring);
    sp_g **stack = ring != NULL ? realloc(s->free_recs, (size_t)room * sizeof *stack) : NULL;
    if (stack == NULL) {
        free(ring);
        return 0;
    }
    for (int64_t i = 0; i < atomic_load_explicit(&s->global_count, memory_order_relaxed); i++)
        ring[i] = s->global[(s->global_head + i) & (s->room - 1)];
    free(s->global);
    s->global = ring;
    s->global_head = 0;
    s->free_recs = stack;
    s->room = room;
    return 1;
}

/* A record never used before (under s->lock); NULL without memory. */
static sp_g *make_record(sp_sched *s)
{
    int64_t slot = atomic_load_explicit(&s->records, memory_order_relaxed);
    if (slot >= (int64_t)RECORD_CHUNK * RECORD_CHUNKS || (slot == s->room && !grow_room(s)))
        return NULL;
    sp_g *_Atomic *at = &s->chunks[slot / RECORD_CHUNK];
    sp_g *chunk = atomic_load_explicit(at, memory_order_relaxed);
    if (chunk == NULL) {
        if ((chunk = take_chunk()) == NULL)
            return NULL;
        atomic_store_explicit(at, chunk, memory_order_release);
    }
    sp_g *g = &chunk[slot % RECORD_CHUNK];
    g->slot = slot;
    g->state = SP_G_DEAD;
    /* Readers enumerate up to records: the record is filled in first. */
    atomic_store_explicit(&s->records, slot + 1, memory_order_release);
    return g;
}

static int64_t own_live(sp_runq *q) { return atomic_load_explicit(&q->live, memory_order_relaxed); }

/* The owner's plain read-modify-write of its share: no locked instruction. */
static void add_live(sp_runq *q, int64_t delta)
{
    atomic_store_explicit(&q->live, own_live(q) + delta, memory_order_relaxed);
}

static int64_t next_id(sp_sched *s, sp_runq *q)
{
    if (q == NULL)
        return atomic_fetch_add(&s->next_id, 1);
    if (q->id_next == q->id_end) {
        q->id_next = atomic_fetch_add(&s->next_id, ID_BLOCK);
        q->id_end = q->id_next + ID_BLOCK;
    }
    return q->id_next++;
}

/* Puts n records on the sched's free stack (under s->lock). */
static void give_to_sched(sp_sched *s, sp_g *const *recs, int n)
{
    for (int i = 0; i < n; i++)
        s->free_recs[s->free_count++] = recs[i];
}

/* Moves up to n records from the sched's free stack to q's (under s->lock),
   the most recently given back first. */
static void refill_locked(sp_sched *s, sp_runq *q, int n)
{
    while (n-- > 0 && s->free_count > 0)
        q->free_recs[q->free_count++] = s->free_recs[--s->free_count];
}

/* Fills q's empty free stack: records given back elsewhere, or else a batch
   of new ones, in the order made, so that goroutines spawned one after the
   other sit one after the other in memory. */
static void refill(sp_sched *s, sp_runq *q)
{
    sp_lock_acquire(&s->lock);
    refill_locked(s, q, LOCAL_FREE_KEEP);
    if (q->free_count == 0) {
        sp_g *batch[LOCAL_FREE_KEEP];
        int n = 0;
        while (n < LOCAL_FREE_KEEP && (batch[n] = make_record(s)) != NULL)
            n++;
        while (n > 0)
            q->free_recs[q->free_count++] = batch[--n];
    }
    sp_lock_release(&s->lock);
}

static sp_g *new_g(sp_sched *s, sp_runq *q)
{
    sp_g *g = NULL;
    if (q != NULL && q->free_count == 0)
        refill(s, q);
    if (q != NULL && q->free_count > 0) {
        g = q->free_recs[--q->free_count];
    } else {
        sp_lock_acquire(&s->lock);
        g = s->free_count > 0 ? s->free_recs[--s->free_count] : make_record(s);
        sp_lock_release(&s->lock);
        if (g == NULL)
            return NULL;
    }
    /* A queue owner may still look at the record (runq_g_store). */
    runq_g_store(g->coro, NULL);
    runq_g_store(g->hold, 0);
    g->wait_reason = 0;
    runq_g_store(g->flags, 0);
    g->parked_on = NULL;
    runq_g_store(g->fn, NULL);
    g->arg = NULL;
    g->id = next_id(s, q);
    g->since_ms = now_ms();
    __atomic_store_n(&g->state, SP_G_RUNNABLE, __ATOMIC_RELEASE);
    if (q != NULL)
        add_live(q, 1);
    else
        atomic_fetch_add(&s->live, 1);
    return g;
}

static void free_g(sp_sched *s, sp_runq *q, sp_g *g)
{
    runq_g_store(g->coro, NULL);
    runq_g_store(g->fn, NULL);
    g->arg = NULL;
    g->since_ms = now_ms();
    __atomic_store_n(&g->state, SP_G_DEAD, __ATOMIC_RELEASE);
    if (q == NULL) {
        sp_lock_acquire(&s->lock);
        give_to_sched(s, &g, 1);
        sp_lock_release(&s->lock);
        atomic_fetch_sub(&s->live, 1);
        return;
    }
    add_live(q, -1);
    q->free_recs[q->free_count++] = g;
    if (q->free_count < SP_RUNQ_FREE_MAX)
        return;
    /* Full: the older half goes to the sched, the newer (warmer) half stays. */
    sp_lock_acquire(&s->lock);
    give_to_sched(s, q->free_recs, SP_RUNQ_FREE_MAX - LOCAL_FREE_KEEP);
    sp_lock_release(&s->lock);
    memmove(q->free_recs, q->free_recs + (SP_RUNQ_FREE_MAX - LOCAL_FREE_KEEP), LOCAL_FREE_KEEP * sizeof *q->free_recs);
    q->free_count = LOCAL_FREE_KEEP;
}

sp_g *sp_sched_new_g(sp_sched *s, sp_runq *q)
{
    if (s == NULL || (q != NULL && q->sched != s))
        return NULL;
    return new_g(s, q);
}

/* Whether g is one of s's records (the arrays have room for those alone). */
static int owns(const sp_sched *s, const sp_g *g) { return sp_sched_record(s, g->slot) == g; }

void sp_sched_free_g(sp_sched *s, sp_runq *q, sp_g *g)
{
    if (s == NULL || g == NULL || (q != NULL && q->sched != s) || !owns(s, g) ||
        __atomic_load_n(&g->state, __ATOMIC_ACQUIRE) == SP_G_DEAD)
        return;
    free_g(s, q, g);
}

sp_g *sp_sched_take_g(sp_runq *q) { return new_g(q->sched, q); }
void sp_sched_give_g(sp_runq *q, sp_g *g) { free_g(q->sched, q, g); }

void sp_sched_drain_free(sp_sched *s, sp_runq *q)
{
    if (s == NULL || q == NULL || q->sched != s)
        return;
    sp_lock_acquire(&s->lock);
    give_to_sched(s, q->free_recs, q->free_count);
    q->free_count = 0;
    sp_lock_release(&s->lock);
}

/* What a native goroutine that has not run yet will run, and on which kind
   of stack (stack_flag: SP_G_SEGMENTED or 0). */
static void set_entry(sp_g *g, sp_fn fn, void *arg, int32_t stack_flag)
{
    runq_g_store(g->fn, fn);
    g->arg = arg;
    runq_g_store(g->flags, (g->flags & ~(SP_G_MANAGED | SP_G_SEGMENTED)) | stack_flag);
}

int sp_sched_init_g(sp_sched *s, sp_g *g, sp_fn fn, void *arg)
{
    int kind;
    size_t max_stack;
    int err = sp_coro_check(fn, &s->stacks, &kind, &max_stack);
    if (err != SP_OK)
        return err;
    /* The kind resolved now (it depends on fn's module), so the first run
       does not resolve it again. */
    set_entry(g, fn, arg, kind == SP_STACK_SEGMENTED ? SP_G_SEGMENTED : 0);
    return SP_OK;
}

int sp_sched_init_g_on(sp_runq *q, sp_g *g, sp_fn fn, void *arg)
{
    if (fn == NULL || fn != q->checked_fn) {
        int err = sp_sched_init_g(q->sched, g, fn, arg);
        if (err == SP_OK) {
            q->checked_fn = fn;
            q->checked_flags = g->flags & SP_G_SEGMENTED;
        }
        return err;
    }
    /* The kind depends only on fn's module and the sched's options, and the
       module's answer is kept for the process (split_module.c). */
    set_entry(g, fn, arg, q->checked_flags);
    return SP_OK;
}

int sp_g_init_native(sp_sched *s, sp_g *g, sp_fn fn, void *arg)
{
    if (s == NULL || g == NULL || fn == NULL)
        return SP_EINVAL;
    return sp_sched_init_g(s, g, fn, arg);
}

/* g, fresh, runs on co from now on. */
static void attach_coro(sp_g *g, sp_coro *co)
{
    runq_g_store(g->coro, co);
    runq_g_store(g->fn, NULL);
    g->arg = NULL;
}

int sp_sched_start_g(sp_sched *s, sp_g *g)
{
    sp_coro *co;
    int segmented = (g->flags & SP_G_SEGMENTED) != 0;
    int err = sp_coro_create_checked(&co, g->fn, g->arg, segmented ? SP_STACK_SEGMENTED : SP_STACK_RESERVED,
                                     segmented ? s->segmented_max : s->reserved_max, 0, SP_CORO_GOROUTINE);
    if (err != SP_OK)
        return err;
    attach_coro(g, co);
    return SP_OK;
}

int sp_sched_start_g_on(sp_g *g, sp_coro *finished)
{
    if (!runq_fresh(g) || !(g->flags & SP_G_SEGMENTED) || !sp_coro_reuse(finished, g->fn, g->arg))
        return 0;
    attach_coro(g, finished);
    return 1;
}

int sp_g_start(sp_sched *s, sp_g *g)
{
    if (s == NULL || g == NULL)
        return SP_EINVAL;
    if (g->coro != NULL)
        return SP_OK;
    if (g->fn == NULL)
        return SP_EINVAL;
    return sp_sched_start_g(s, g);
}

int64_t sp_sched_live(const sp_sched *s)
{
    if (s == NULL)
        return 0;
    sp_sched *m = (sp_sched *)s;
    int64_t n = atomic_load(&m->live);
    sp_lock_acquire(&m->lock);
    for (sp_runq *q = m->queues; q != NULL; q = q->sched_next)
        n += own_live(q);
    sp_lock_release(&m->lock);
    return n;
}

int64_t sp_sched_records(const sp_sched *s)
{
    return s != NULL ? atomic_load_explicit(&((sp_sched *)s)->records, memory_order_acquire) : 0;
}

/* The record in slot, which must be below sp_sched_records(s). */
static sp_g *record_at(const sp_sched *s, int64_t slot)
{
    sp_g *chunk = atomic_load_explicit(&((sp_sched *)s)->chunks[slot / RECORD_CHUNK], memory_order_acquire);
    return &chunk[slot % RECORD_CHUNK];
}

sp_g *sp_sched_record(const sp_sched *s, int64_t slot)
{
    if (s == NULL || slot < 0 || slot >= sp_sched_records(s))
        return NULL;
    return record_at(s, slot);
}

int64_t sp_sched_next_live(const sp_sched *s, int64_t from)
{
    int64_t n = sp_sched_records(s);
    for (int64_t slot = from < 0 ? 0 : from; slot < n; slot++)
        if (__atomic_load_n(&record_at(s, slot)->state, __ATOMIC_ACQUIRE) != SP_G_DEAD)
            return slot;
    return -1;
}

/* ---- the global run queue ------------------------------------------------ */

static void global_push(sp_sched *s, sp_g *g) /* under s->lock */
{
    int64_t n = atomic_load_explicit(&s->global_count, memory_order_relaxed);
    s->global[(s->global_head + n) & (s->room - 1)] = g;
    atomic_store_explicit(&s->global_count, n + 1, memory_order_release);
}

static sp_g *global_pop(sp_sched *s) /* under s->lock */
{
    int64_t n = atomic_load_explicit(&s->global_count, memory_order_relaxed);
    if (n == 0)
        return NULL;
    sp_g *g = s->global[s->global_head];
    s->global_head = (s->global_head + 1) & (s->room - 1);
    atomic_store_explicit(&s->global_count, n - 1, memory_order_release);
    return g;
}

/* The oldest entry, left in the queue (under s->lock, count > 0). */
static sp_g *global_peek(const sp_sched *s) { return s->global[s->global_head]; }

void sp_sched_global_push(sp_sched *s, sp_g *g)
{
    if (s == NULL || g == NULL || !owns(s, g))
        return;
    sp_lock_acquire(&s->lock);
    if (atomic_load_explicit(&s->global_count, memory_order_relaxed) < s->room) /* else queued twice */
        global_push(s, g);
    sp_lock_release(&s->lock);
}

sp_g *sp_sched_global_pop(sp_sched *s)
{
    if (s == NULL || sp_sched_global_count(s) == 0)
        return NULL;
    sp_lock_acquire(&s->lock);
    sp_g *g = global_pop(s);
    sp_lock_release(&s->lock);
    return g;
}

int64_t sp_sched_global_count(const sp_sched *s)
{
    return s != NULL ? atomic_load_explicit(&((sp_sched *)s)->global_count, memory_order_acquire) : 0;
}

sp_g *sp_sched_global_take(sp_sched *s, sp_runq *q, int32_t procs)
{
    if (s == NULL || q == NULL || sp_sched_global_count(s) == 0)
        return NULL;
    sp_lock_acquire(&s->lock);
    int64_t n = atomic_load_explicit(&s->global_count, memory_order_relaxed) / (procs > 0 ? procs : 1) + 1;
    if (n > SP_RUNQ_CAPACITY / 2)
        n = SP_RUNQ_CAPACITY / 2;
    sp_g *first = global_pop(s);
    for (int64_t i = 1; i < n && atomic_load_explicit(&s->global_count, memory_order_relaxed) > 0; i++) {
        if (!runq_push_tail(q, global_peek(s)))
            break;
        global_pop(s);
    }
    sp_lock_release(&s->lock);
    return first;
}

void sp_sched_put_spill(sp_runq *q, sp_g *g, int next)
{
    sp_g *left = sp_runq_put(q, g, next);
    if (left == NULL)
        return;
    sp_g *half[SP_RUNQ_CAPACITY / 2];
    int n = sp_runq_take_half(q, half, SP_RUNQ_CAPACITY / 2);
    sp_sched *s = q->sched;
    sp_lock_acquire(&s->lock);
    for (int i = 0; i < n; i++)
        global_push(s, half[i]);
    global_push(s, left);
    sp_lock_release(&s->lock);
}

void sp_runq_put_spill(sp_runq *q, sp_sched *s, sp_g *g, bool next)
{
    if (q == NULL || s == NULL || g == NULL || q->sched != s)
        return;
    sp_sched_put_spill(q, g, next);
}

/* ---- what deadlock detection counts, and wakes without a P ----------------- */

void sp_sched_outside_add(sp_sched *s, int64_t delta)
{
    atomic_fetch_add_explicit(&s->outside_waits, delta, memory_order_acq_rel);
}

int64_t sp_sched_outside_waits(const sp_sched *s)
{
    return s != NULL ? atomic_load(&((sp_sched *)s)->outside_waits) : 0;
}

int64_t sp_sched_timers(const sp_sched *s)
{
    if (s == NULL)
        return 0;
    sp_sched *m = (sp_sched *)s;
    int64_t n = 0;
    sp_lock_acquire(&m->lock);
    for (sp_runq *q = m->queues; q != NULL; q = q->sched_next)
        n += __atomic_load_n(&q->timers.count, __ATOMIC_RELAXED);
    sp_lock_release(&m->lock);
    return n;
}

void sp_sched_add_wakes(sp_sched *s, sp_party *list)
{
    if (s == NULL || list == NULL)
        return;
    sp_lock_acquire(&s->wakes_lock);
    while (list != NULL) {
        sp_party *p = list;
        list = p->next_woken;
        p->next_woken = s->wakes;
        s->wakes = p;
    }
    sp_lock_release(&s->wakes_lock);
}

sp_party *sp_sched_take_wakes(sp_sched *s)
{
    if (s == NULL || __atomic_load_n(&s->wakes, __ATOMIC_RELAXED) == NULL)
        return NULL;
    sp_lock_acquire(&s->wakes_lock);
    sp_party *list = s->wakes;
    s->wakes = NULL;
    sp_lock_release(&s->wakes_lock);
    return list;
}
