/* The run loop: resumes goroutines from a processor's run queue while they
   only yield, with no trip through managed code; everything else goes back
   to the scheduler. A goroutine that yields inside the loop (sp_gosched)
   switches straight to the next one when that one also last yielded here:
   one switch, whose returns the CPU predicts, instead of two through the
   loop. */
#include "run_queue.h"

/* The loop running on this thread, while it may switch by itself. */
typedef struct run_ctx {
    sp_runq *q;
    sp_g *current;    /* the goroutine being resumed */
    int64_t entered;  /* the status word while a goroutine runs */
    int64_t switches; /* made by this call of sp_runq_run */
    int32_t budget;
} run_ctx;

static SP_THREAD_LOCAL run_ctx *tls_run;
#if !defined(SPINDLE_ASAN)
/* A goroutine that switched directly to the one now running: it goes to the
   queue as soon as its registers are saved, which is when the one it switched
   to runs again (sp_run_yield, after the switch). */
static SP_THREAD_LOCAL sp_g *tls_switched_from;
#endif

/* Whether g came back from its resume only to let others run. */
static inline int only_yielded(const sp_g *g, int rc)
{
    if (rc == SP_CORO_SUSPENDED)
        return 1;
    return rc == SP_CORO_REQUEST && g->coro->request->op == SP_OP_GOSCHED;
}

/* Whether the loop may resume g itself (direct: by a direct switch, which
   lands in sp_run_yield, so g must have been suspended there). */
static inline int resumable(const sp_g *g, int direct)
{
    return g->coro != NULL && g->hold == 0 && (!direct || g->coro->parked_in_yield);
}

/* The next goroutine, taken only if the loop may resume it itself; NULL
   otherwise (it stays queued for the scheduler). Peeking first is safe: the
   CAS that takes an entry succeeds only if it is still the one peeked at. */
static sp_g *take_resumable(sp_runq *q, int direct)
{
    sp_g *next = atomic_load_explicit(&q->next, memory_order_acquire);
    if (next != NULL) {
        if (!resumable(next, direct))
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
        if (!resumable(g, direct))
            return NULL;
        if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1, memory_order_release,
                                                  memory_order_relaxed))
            return g;
    }
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
    c->switches++;
    /* Only this thread writes the count: no locked add. */
    atomic_store_explicit(&c->q->switches,
                          atomic_load_explicit(&c->q->switches, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

int sp_run_yield(int *answer)
{
#if defined(SPINDLE_ASAN)
    (void)answer;
    return 0;
#else
    run_ctx *c = tls_run;
    if (c == NULL || c->current->coro != sp_current())
        return 0;
    sp_g *g = c->current;
    sp_coro *co = g->coro;
    int got;
    co->parked_in_yield = 1;
    if (c->switches < c->budget) {
        sp_runq *q = c->q;
        if (begin_queue_work(c) &&
            atomic_load_explicit(&q->tail, memory_order_relaxed) - runq_head(q) < SP_RUNQ_CAPACITY) {
            sp_g *next = take_resumable(q, 1);
            if (next != NULL) {
                count_switch(c, next);
                tls_switched_from = g; /* queued by next, with busy still up */
                got = sp_coro_transfer(co, next->coro);
                goto resumed;
            }
        }
        end_queue_work(c);
    }
    /* Through the loop, as a bare yield: it queues g and resumes the next. */
    got = sp_coro_suspend(co);
resumed:
    co->parked_in_yield = 0;
    sp_g *from = tls_switched_from;
    if (from != NULL) {
        /* Its registers are saved now: it may be found and run elsewhere. */
        tls_switched_from = NULL;
        from->state = SP_G_RUNNABLE;
        run_ctx *here = tls_run;
        runq_push_tail(here->q, from); /* room was checked before the switch */
        end_queue_work(here);
    }
    *answer = got;
    return 1;
#endif
}

int sp_runq_run(sp_runq *q, sp_g *g, int64_t entered, int32_t budget, sp_run_result *out)
{
    if (q == NULL || g == NULL || g->coro == NULL || out == NULL)
        return SP_EINVAL;
    const int64_t owned = (entered & ~(int64_t)0xff) | SP_P_OWNED;
    run_ctx c = { .q = q, .current = g, .entered = entered, .budget = budget };
    const int may_switch = (entered & 0xff) == SP_P_IN_GOROUTINE && budget > 0;
    tls_run = may_switch ? &c : NULL;
    int rc;
    for (;;) {
        rc = sp_coro_resume(g->coro);
        g = c.current; /* direct switches may have changed who came back */
        if (may_switch && c.switches < budget && only_yielded(g, rc)) {
            if (!begin_queue_work(&c)) {
                end_queue_work(&c);
                tls_run = NULL;
                *out = (sp_run_result){ .g = g, .status = rc, .lost = 1, .switches = c.switches };
                return SP_OK;
            }
            if (rc == SP_CORO_REQUEST)
                g->coro->request->result = SP_OK;
            g->state = SP_G_RUNNABLE;
            if (runq_push_tail(q, g)) {
                sp_g *next = take_resumable(q, 0);
                if (next == NULL) {
                    /* g is queued; the next one is the scheduler's to run. */
                    int64_t seen = entered;
                    int lost = !atomic_compare_exchange_strong_explicit(
                        &q->status, &seen, owned, memory_order_acq_rel, memory_order_acquire);
                    end_queue_work(&c);
                    tls_run = NULL;
                    *out = (sp_run_result){ .g = NULL, .status = SP_RUN_REQUEUED, .lost = lost,
                                            .switches = c.switches };
                    return SP_OK;
                }
                count_switch(&c, next);
                end_queue_work(&c);
                g = next;
                continue;
            }
            g->state = SP_G_RUNNING; /* the ring is full: the scheduler spills it */
            end_queue_work(&c);
        }
        tls_run = NULL;
        int64_t seen = entered;
        int lost = !atomic_compare_exchange_strong_explicit(&q->status, &seen, owned,
                                                            memory_order_acq_rel, memory_order_acquire);
        *out = (sp_run_result){ .g = g, .status = rc, .lost = lost, .switches = c.switches };
        return SP_OK;
    }
}
