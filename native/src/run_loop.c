/* The run loop: resumes goroutines from a processor's run queue while they
   only yield, with no trip through managed code; everything else goes back
   to the scheduler. A goroutine that yields (sp_gosched) or parks in a
   channel (chan_fast.c) inside the loop switches straight to the next one
   when that one also last left here: one switch, whose returns the CPU
   predicts, instead of two through the loop. */
#include "run_queue.h"
#include "segment.h"

#include <stdlib.h>

/* The loop running on this thread, while it may switch by itself. */
typedef struct run_ctx {
    sp_runq *q;
    sp_g *current;    /* the goroutine being resumed */
    sp_coro *current_coro; /* its coroutine (one load less for sp_run_current) */
    int64_t entered;  /* the status word while a goroutine runs */
    int64_t switches; /* made by this call of sp_runq_run */
    int32_t budget;
    /* Set by a goroutine that parks and goes back through the loop (not a
       direct switch): the channel lock the loop releases once it is out. */
    int32_t *park_unlock;
} run_ctx;

static SP_THREAD_LOCAL run_ctx *tls_run;
#if !defined(SPINDLE_ASAN)
/* What a goroutine that switched directly to the one now running left to do
   once its registers are saved, which is when the one it switched to runs
   again (leave, after the switch): queue it (it yielded), or release the
   channel lock it parked under. */
static SP_THREAD_LOCAL sp_g *tls_switched_from;
static SP_THREAD_LOCAL int32_t *tls_unlock_after;
#endif

/* Whether g came back from its resume only to let others run. */
static inline int only_yielded(const sp_g *g, int rc)
{
    if (rc == SP_CORO_SUSPENDED)
        return 1;
    return rc == SP_CORO_REQUEST && g->coro->request->op == SP_OP_GOSCHED;
}

/*
 * The handshake with the monitor. The status word says IN_GOROUTINE for as
 * long as the loop keeps switching, and the monitor may take the P (CAS to
 * another state) at any moment. Between two goroutines the loop works on the
 * queue, which it may do only while it holds the P; a locked instruction to
 * check that on every switch would cost as much as the rest of the switch.
 * So the loop raises busy with a plain store, then reads the status word
 * with a plain load: the monitor, after its CAS, issues a process-wide
 * memory barrier (membarrier) and waits until busy is down. Either the loop
 * sees the new status and leaves the queue alone, or the monitor sees busy
 * and waits until the loop has finished with the queue. (The same asymmetric
 * fence serves garbage collectors that suspend threads.)
 */
static inline int begin_queue_work(const run_ctx *c)
{
    atomic_store_explicit(&c->q->busy, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst); /* the monitor's membarrier does the rest */
    return atomic_load_explicit(&c->q->status, memory_order_relaxed) == c->entered;
}

static inline void end_queue_work(const run_ctx *c)
{
    atomic_store_explicit(&c->q->busy, 0, memory_order_release);
}

static inline void count_switch(run_ctx *c, sp_g *next)
{
    next->state = SP_G_RUNNING;
    c->current = next;
    c->current_coro = next->coro;
    c->switches++;
    /* Only this thread writes the count: no locked add. */
    atomic_store_explicit(&c->q->switches,
                          atomic_load_explicit(&c->q->switches, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

sp_g *sp_run_current(void)
{
#if defined(SPINDLE_ASAN)
    return NULL; /* no direct switches there: everything goes to the runtime */
#else
    run_ctx *c = tls_run;
    return c != NULL && c->current_coro == sp_current() ? c->current : NULL;
#endif
}

#if !defined(SPINDLE_ASAN)

/* g, the running goroutine, gives up the CPU: it yielded (unlock NULL: it
   goes back to the queue) or parks (it stays out; *unlock is released once it
   is switched out). Switches straight to the next goroutine when that one
   also left through here; else goes back through the loop. Returns g's
   answer when it runs again. */
static int leave(run_ctx *c, sp_g *g, int32_t *unlock)
{
    sp_coro *co = g->coro;
    int got;
    co->parked_in_loop = 1;
    if (c->switches < c->budget) {
        sp_runq *q = c->q;
        if (begin_queue_work(c) &&
            (unlock != NULL ||
             atomic_load_explicit(&q->tail, memory_order_relaxed) - runq_head(q) < SP_RUNQ_CAPACITY)) {
            sp_g *next = runq_take(q, 1, 1);
            if (next != NULL) {
                count_switch(c, next);
                tls_switched_from = unlock == NULL ? g : NULL; /* queued by next */
                tls_unlock_after = unlock;                     /* released by next */
                got = sp_coro_transfer(co, next->coro);
                goto resumed;
            }
        }
        end_queue_work(c);
    }
    c->park_unlock = unlock; /* the loop releases it */
    got = sp_coro_suspend(co);
resumed:
    co->parked_in_loop = 0;
    sp_g *from = tls_switched_from;
    int32_t *word = tls_unlock_after;
    if (from != NULL || word != NULL) {
        run_ctx *here = tls_run;
        tls_switched_from = NULL;
        tls_unlock_after = NULL;
        if (from != NULL) {
            from->state = SP_G_RUNNABLE;
            runq_push_tail(here->q, from); /* room was checked before the switch */
        } else {
            sp_lock_release((sp_lock *)word);
        }
        end_queue_work(here);
    }
    return got;
}
#endif

int sp_run_yield(int *answer)
{
#if defined(SPINDLE_ASAN)
    (void)answer;
    return 0;
#else
    sp_g *g = sp_run_current();
    if (g == NULL)
        return 0;
    *answer = leave(tls_run, g, NULL);
    return 1;
#endif
}

void sp_run_park(int32_t *locked, int32_t reason)
{
#if defined(SPINDLE_ASAN)
    (void)locked;
    (void)reason;
    abort(); /* sp_run_current is NULL there: no caller */
#else
    run_ctx *c = tls_run;
    sp_g *g = c->current;
#if SP_HAVE_SEGMENTS
    /* As sp_coro_request does: a parked goroutine holds about 2 KiB, and an
       overrun of the reserve is reported now. */
    if (g->coro->kind == SP_STACK_SEGMENTED)
        sp_segment_drop_large_cache(g->coro);
#endif
    g->wait_reason = reason;
    g->state = SP_G_WAITING;
    leave(c, g, locked);
#endif
}

int sp_run_ready_begin(void)
{
#if defined(SPINDLE_ASAN)
    return 0;
#else
    run_ctx *c = tls_run;
    sp_runq *q = c->q;
    if (begin_queue_work(c) &&
        (atomic_load_explicit(&q->next, memory_order_relaxed) == NULL ||
         atomic_load_explicit(&q->tail, memory_order_relaxed) - runq_head(q) < SP_RUNQ_CAPACITY))
        return 1;
    end_queue_work(c);
    return 0;
#endif
}

void sp_run_ready(sp_g *g)
{
#if defined(SPINDLE_ASAN)
    (void)g;
#else
    run_ctx *c = tls_run;
    g->wait_reason = 0;
    g->state = SP_G_RUNNABLE;
    sp_runq_put(c->q, g, true); /* room checked by sp_run_ready_begin */
    end_queue_work(c);
#endif
}

/* Ends a call of sp_runq_run with g (or NULL) and status. Unless the loop
   already saw the P taken (lost), the status word goes back from entered to
   owned, which fails if it was taken meanwhile; the busy flag drops only then,
   so the monitor waits for a loop that was still working on the queue. */
static int finish(run_ctx *c, sp_run_result *out, sp_g *g, int32_t status, int lost)
{
    if (!lost) {
        int64_t seen = c->entered;
        int64_t owned = (c->entered & ~(int64_t)0xff) | SP_P_OWNED;
        lost = !atomic_compare_exchange_strong_explicit(&c->q->status, &seen, owned,
                                                        memory_order_acq_rel, memory_order_acquire);
    }
    end_queue_work(c);
    tls_run = NULL;
    *out = (sp_run_result){ .g = g, .status = status, .lost = lost, .switches = c->switches };
    return SP_OK;
}

#if !defined(SPINDLE_ASAN)
/* sp_go inside the loop, run on the thread's own stack (sp_systemstack): a
   new record, possibly a chunk of them or a spill of half the ring, is more
   than the reserve below a goroutine's stack segment holds. */
typedef struct spawn_call {
    run_ctx *c;
    sp_fn fn;
    void *arg;
    int handled;
    int result;
} spawn_call;

static void spawn_on_system_stack(void *arg)
{
    spawn_call *call = arg;
    run_ctx *c = call->c;
    sp_runq *q = c->q;
    if (!begin_queue_work(c)) {
        end_queue_work(c); /* the P was taken: the runtime serves it */
        return;
    }
    sp_g *g = sp_sched_take_g(q);
    if (g != NULL) {
        call->handled = 1;
        call->result = sp_sched_init_g_on(q, g, call->fn, call->arg);
        if (call->result == SP_OK)
            sp_sched_put_spill(q, g, 1); /* runnext, as Go's newproc */
        else
            sp_sched_give_g(q, g);
    }
    end_queue_work(c);
}
#endif

int sp_run_spawn(sp_fn fn, void *arg, int *result)
{
#if defined(SPINDLE_ASAN)
    (void)fn;
    (void)arg;
    (void)result;
    return 0;
#else
    if (sp_run_current() == NULL || tls_run->q->sched == NULL)
        return 0;
    spawn_call call = { .c = tls_run, .fn = fn, .arg = arg };
    sp_systemstack(spawn_on_system_stack, &call);
    *result = call.result;
    return call.handled;
#endif
}

int sp_runq_run(sp_runq *q, sp_g *g, int64_t entered, int32_t budget, sp_run_result *out)
{
    if (q == NULL || g == NULL || out == NULL || (g->coro == NULL && !(runq_fresh(g) && q->sched != NULL)))
        return SP_EINVAL;
    run_ctx c = { .q = q, .current = g, .current_coro = g->coro, .entered = entered, .budget = budget };
    const int may_switch = (entered & 0xff) == SP_P_IN_GOROUTINE && budget > 0;
    tls_run = may_switch ? &c : NULL;
    for (;;) {
        if (g->coro == NULL) {
            /* First run: its stack comes from the cache the last finished
               goroutine went back to. */
            int err = sp_sched_start_g(q->sched, g);
            if (err != SP_OK)
                return finish(&c, out, g, err, 0);
            c.current_coro = g->coro;
        }
        int rc = sp_coro_resume(g->coro);
        g = c.current; /* direct switches may have changed who came back */
        if (rc == SP_CORO_DONE && may_switch && q->sched != NULL && !(g->flags & SP_G_EXIT_TO_SCHEDULER)) {
            /* Finished: its record goes to the P's free list (Go's goexit0
               and gfput), and its stack to the next goroutine when that one
               is fresh, else back to this thread's cache. */
            if (!begin_queue_work(&c))
                return finish(&c, out, g, rc, 1);
            sp_coro *finished = g->coro;
            sp_sched_give_g(q, g);
            sp_g *next = c.switches < budget ? runq_take(q, 1, 0) : NULL;
            if (next == NULL || !sp_sched_start_g_on(next, finished))
                sp_coro_destroy(finished);
            if (next == NULL)
                return finish(&c, out, NULL, SP_RUN_EXITED, 0);
            count_switch(&c, next);
            end_queue_work(&c);
            g = next;
            continue;
        }
        if (c.park_unlock != NULL) {
            /* g parked in a channel and is switched out: its lock may go. It
               is in the channel's queue, not the run queue. */
            sp_lock_release((sp_lock *)c.park_unlock);
            c.park_unlock = NULL;
            int held = begin_queue_work(&c);
            sp_g *next = held && c.switches < budget ? runq_take(q, 1, 0) : NULL;
            if (next == NULL)
                return finish(&c, out, NULL, SP_RUN_PARKED, !held);
            count_switch(&c, next);
            end_queue_work(&c);
            g = next;
            continue;
        }
        if (!may_switch || c.switches >= budget || !only_yielded(g, rc))
            return finish(&c, out, g, rc, 0);
        if (!begin_queue_work(&c))
            return finish(&c, out, g, rc, 1);
        if (rc == SP_CORO_REQUEST)
            g->coro->request->result = SP_OK;
        g->state = SP_G_RUNNABLE;
        if (!runq_push_tail(q, g)) {
            g->state = SP_G_RUNNING; /* the ring is full: the scheduler spills it */
            return finish(&c, out, g, rc, 0);
        }
        sp_g *next = runq_take(q, 1, 0);
        if (next == NULL) /* g is queued; the next one is the scheduler's to run */
            return finish(&c, out, NULL, SP_RUN_REQUEUED, 0);
        count_switch(&c, next);
        end_queue_work(&c);
        g = next;
    }
}
