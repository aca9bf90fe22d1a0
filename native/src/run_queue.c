/* A processor's local run queue, after Go's runq (runtime/proc.go): the
   owner puts and gets, idle workers steal half. */
#include "run_queue.h"

#include <stdlib.h>

int sp_runq_create(sp_runq **out)
{
    if (out == NULL)
        return SP_EINVAL;
    *out = NULL;
    void *raw = calloc(1, sizeof(sp_runq) + SP_RUNQ_LINE); /* malloc's alignment is less than a line */
    if (raw == NULL)
        return SP_ENOMEM;
    sp_runq *q = (sp_runq *)(((uintptr_t)raw + SP_RUNQ_LINE - 1) & ~(uintptr_t)(SP_RUNQ_LINE - 1));
    q->allocation = raw;
    sp_timers_init(&q->timers);
    *out = q;
    return SP_OK;
}

int sp_runq_destroy(sp_runq *q)
{
    if (q == NULL)
        return SP_EINVAL;
    sp_timers_destroy(&q->timers);
    free(q->select_block);
    free(q->allocation);
    return SP_OK;
}

int64_t *sp_runq_status(sp_runq *q) { return q != NULL ? (int64_t *)&q->status : NULL; }

uint64_t sp_runq_switches(const sp_runq *q)
{
    return q != NULL ? atomic_load_explicit(&((sp_runq *)q)->switches, memory_order_relaxed) : 0;
}

int sp_runq_busy(const sp_runq *q)
{
    return q != NULL ? atomic_load_explicit(&((sp_runq *)q)->busy, memory_order_acquire) : 0;
}

sp_g *sp_runq_put(sp_runq *q, sp_g *g, bool next)
{
    if (q == NULL || g == NULL)
        return NULL;
    if (next) {
        sp_g *old = atomic_exchange_explicit(&q->next, g, memory_order_acq_rel);
        if (old == NULL)
            return NULL;
        g = old;
    }
    return runq_push_tail(q, g) ? NULL : g;
}

sp_g *sp_runq_get(sp_runq *q) { return q != NULL ? runq_take(q, 0, 0) : NULL; }

sp_g *sp_runq_steal_from(sp_runq *q, sp_runq *victim, bool take_next)
{
    if (q == NULL || victim == NULL || q == victim)
        return NULL;
    for (;;) {
        uint32_t h = runq_head(victim);
        uint32_t t = atomic_load_explicit(&victim->tail, memory_order_acquire);
        uint32_t n = t - h;
        n -= n / 2;
        if (n > SP_RUNQ_CAPACITY / 2)
            continue; /* a torn head/tail pair: read again */
        if (n == 0) {
            /* Only a runnext goroutine: take it rather than leave a P idle
               while the victim's worker is busy elsewhere (as Go does). */
            if (!take_next)
                return NULL;
            sp_g *next = atomic_load_explicit(&victim->next, memory_order_acquire);
            if (next != NULL &&
                atomic_compare_exchange_strong_explicit(&victim->next, &next, NULL,
                                                        memory_order_acq_rel, memory_order_acquire))
                return next;
            return NULL;
        }
        uint32_t mine = atomic_load_explicit(&q->tail, memory_order_relaxed);
        for (uint32_t i = 0; i < n; i++) {
            sp_g *g = atomic_load_explicit(&victim->ring[(h + i) % SP_RUNQ_CAPACITY],
                                           memory_order_relaxed);
            atomic_store_explicit(&q->ring[(mine + i) % SP_RUNQ_CAPACITY], g, memory_order_relaxed);
        }
        if (!atomic_compare_exchange_strong_explicit(&victim->head, &h, h + n, memory_order_acq_rel,
                                                     memory_order_relaxed))
            continue;
        /* Keep the last stolen one to run; publish the rest. */
        sp_g *run = atomic_load_explicit(&q->ring[(mine + n - 1) % SP_RUNQ_CAPACITY],
                                         memory_order_relaxed);
        atomic_store_explicit(&q->tail, mine + n - 1, memory_order_release);
        return run;
    }
}

int sp_runq_take_half(sp_runq *q, sp_g **out, int capacity)
{
    if (q == NULL || out == NULL || capacity <= 0)
        return 0;
    for (;;) {
        uint32_t h = runq_head(q);
        uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
        uint32_t n = (t - h) / 2;
        if (n > (uint32_t)capacity)
            n = (uint32_t)capacity;
        if (n == 0)
            return 0;
        for (uint32_t i = 0; i < n; i++)
            out[i] = atomic_load_explicit(&q->ring[(h + i) % SP_RUNQ_CAPACITY], memory_order_relaxed);
        if (atomic_compare_exchange_strong_explicit(&q->head, &h, h + n, memory_order_acq_rel,
                                                    memory_order_relaxed))
            return (int)n;
        /* A thief took some meanwhile: count again. */
    }
}

int32_t sp_runq_length(const sp_runq *q)
{
    if (q == NULL)
        return 0;
    sp_runq *m = (sp_runq *)q;
    uint32_t h = runq_head(m), t = atomic_load_explicit(&m->tail, memory_order_acquire);
    int32_t n = (int32_t)(t - h);
    if (n < 0 || n > SP_RUNQ_CAPACITY)
        n = 0; /* head and tail read as they moved */
    return n + (atomic_load_explicit(&m->next, memory_order_acquire) != NULL);
}

bool sp_runq_empty(const sp_runq *q)
{
    if (q == NULL)
        return true;
    sp_runq *m = (sp_runq *)q;
    return runq_head(m) == atomic_load_explicit(&m->tail, memory_order_acquire) &&
           atomic_load_explicit(&m->next, memory_order_acquire) == NULL;
}

/* ---- the processor's timers, for the scheduler ----------------------------------- */

void sp_host_run_timers(sp_runq *q, sp_runq *here, sp_wakes *out)
{
    if (q == NULL || out == NULL)
        return;
    sp_wake_ctx c = sp_wake_ctx_host(here);
    sp_timers_run(&q->timers, sp_clock_now(), &c);
    sp_wake_ctx_host_end(&c, out);
}

int64_t sp_host_next_timer(const sp_runq *q)
{
    return q != NULL ? atomic_load_explicit(&((sp_runq *)q)->timers.next_ns, memory_order_relaxed) : INT64_MAX;
}

const int64_t *sp_host_timer_deadline(const sp_runq *q)
{
    return q != NULL ? (const int64_t *)&((sp_runq *)q)->timers.next_ns : NULL;
}

void sp_host_move_timers(sp_runq *from, sp_runq *to)
{
    if (from != NULL)
        sp_timers_move(&from->timers, to != NULL ? &to->timers : NULL);
}
