/* The run loop: resumes goroutines from a processor's run queue while they
   only yield, so a yield costs two switches and a few queue operations, with
   no trip through managed code. Everything else goes back to the scheduler. */
#include "run_queue.h"

/* Whether g came back from its resume only to let others run. */
static inline int only_yielded(const sp_g *g, int rc)
{
    if (rc == SP_CORO_SUSPENDED)
        return 1;
    return rc == SP_CORO_REQUEST && g->coro->request->op == SP_OP_GOSCHED;
}

static inline int resumable(const sp_g *g) { return g->coro != NULL && g->hold == 0; }

/* The next goroutine, taken only if the loop may resume it itself; NULL
   otherwise (it stays queued for the scheduler). Peeking first is safe: the
   CAS that takes an entry succeeds only if it is still the one peeked at. */
static sp_g *take_resumable(sp_runq *q)
{
    sp_g *next = atomic_load_explicit(&q->next, memory_order_acquire);
    if (next != NULL) {
        if (!resumable(next))
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
        if (!resumable(g))
            return NULL;
        if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1, memory_order_release,
                                                  memory_order_relaxed))
            return g;
    }
}

int sp_runq_run(sp_runq *q, sp_g *g, int64_t entered, int32_t budget, sp_run_result *out)
{
    if (q == NULL || g == NULL || g->coro == NULL || out == NULL)
        return SP_EINVAL;
    const int64_t owned = (entered & ~(int64_t)0xff) | SP_P_OWNED;
    const int may_switch = (entered & 0xff) == SP_P_IN_GOROUTINE;
    int64_t switches = 0;
    int rc;
    for (;;) {
        rc = sp_coro_resume(g->coro);
        int64_t seen = entered;
        if (!atomic_compare_exchange_strong_explicit(&q->status, &seen, owned, memory_order_acq_rel,
                                                     memory_order_acquire)) {
            *out = (sp_run_result){ .g = g, .status = rc, .lost = 1, .switches = switches };
            return SP_OK;
        }
        if (!may_switch || switches >= budget || !only_yielded(g, rc))
            break;
        if (rc == SP_CORO_REQUEST)
            g->coro->request->result = SP_OK;
        g->state = SP_G_RUNNABLE;
        if (!runq_push_tail(q, g)) {
            g->state = SP_G_RUNNING; /* the scheduler spills it with half of the ring */
            break;
        }
        sp_g *next = take_resumable(q);
        if (next == NULL) {
            *out = (sp_run_result){ .g = NULL, .status = SP_RUN_REQUEUED, .switches = switches };
            return SP_OK;
        }
        next->state = SP_G_RUNNING;
        atomic_store_explicit(&q->status, entered, memory_order_release);
        /* Only this thread writes the count: no locked add. */
        atomic_store_explicit(&q->switches,
                              atomic_load_explicit(&q->switches, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        switches++;
        g = next;
    }
    *out = (sp_run_result){ .g = g, .status = rc, .switches = switches };
    return SP_OK;
}
