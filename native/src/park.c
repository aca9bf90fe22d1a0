/* Parking and waking (park.h): wait queues, completing parties, the host's
   party calls. */
#include "run_queue.h"
#include "trace.h"

#include <string.h>

/* ---- wait queues (under their object's lock) -------------------------------- */

void sp_waitq_push(sp_waitq *q, sp_waiter *w)
{
    w->next = NULL;
    w->prev = q->last;
    if (q->last != NULL)
        q->last->next = w;
    else
        q->first = w;
    q->last = w;
    w->lock = q->lock;
    __atomic_store_n(&w->queue, q, __ATOMIC_RELEASE);
}

void sp_waitq_remove(sp_waiter *w)
{
    sp_waitq *q = w->queue;
    if (q == NULL)
        return;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        q->first = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        q->last = w->prev;
    w->prev = w->next = NULL;
    __atomic_store_n(&w->queue, NULL, __ATOMIC_RELEASE);
}

sp_waiter *sp_waitq_take(sp_waitq *q)
{
    for (sp_waiter *w = q->first; w != NULL; w = q->first) {
        /* Claimed before it leaves the queue: a party completed or cancelled
           elsewhere is finished by its owner (unqueue_all), which skips the
           lock of a waiter already out of its queue and may then free the
           waiters and the party. So a waiter's removal is the last this
           makes of a party it failed to claim. */
        sp_party *p = w->party;
        int claimed = sp_party_claim(p);
        if (claimed)
            p->chosen = w->index;
        sp_waitq_remove(w);
        if (claimed)
            return w;
    }
    return NULL;
}

/* Takes every waiter of p but keep (-1: all) out of its queue, one object's
   lock at a time. A counterpart that took one of them out and failed to
   claim p did so under that object's lock, so once this has taken each lock
   in turn, nothing refers to p's waiters any more. */
static void unqueue_all(sp_party *p, int keep)
{
    for (int32_t i = 0; i < p->ncases; i++) {
        sp_waiter *w = &p->waiters[i];
        if (i == keep)
            continue;
        sp_waitq *q = __atomic_load_n(&w->queue, __ATOMIC_ACQUIRE);
        if (q == NULL)
            continue;
        /* w's copy of the lock, not q's: a counterpart may have taken w out, and
           the object been released and its state refilled for a new one, whose
           fill rewrites q->lock (the lock word itself stays: states are never
           freed, so taking it is harmless). */
        sp_lock *lock = w->lock;
        sp_lock_acquire(lock);
        if (w->queue == q)
            sp_waitq_remove(w);
        sp_lock_release(lock);
    }
}

/* ---- waking ---------------------------------------------------------------- */

/* p, a goroutine's party, is complete: its goroutine becomes runnable. After
   this p (on that goroutine's stack) may be gone. */
static void ready_goroutine(sp_wake_ctx *c, sp_party *p)
{
    sp_g *g = p->g;
    sp_sched *s = p->sched;
    int outside = p->outside;
    g->parked_on = NULL;
    g->wait_reason = SP_WAIT_NONE;
    if (sp_tracing())
        sp_trace_unblock(g);
    if (c->in_loop) {
        sp_run_ready(g);
    } else {
        g->state = SP_G_RUNNABLE;
        if (c->q != NULL && c->q->sched == s)
            sp_sched_put_spill(c->q, g, 1);
        else
            sp_sched_global_push(s, g);
        c->readied++;
    }
    /* After it is queued: deadlock detection must never see it neither
       runnable nor counted as waited on from outside. */
    if (outside)
        sp_sched_outside_add(s, -1);
}

void sp_wake_flush(sp_wake_ctx *c)
{
    sp_party *p = c->pending;
    c->pending = NULL;
    while (p != NULL) {
        sp_party *next = p->next_woken; /* before the party's owner may run */
        switch (p->kind) {
        case SP_PARTY_GOROUTINE:
            ready_goroutine(c, p);
            break;
        case SP_PARTY_MANAGED:
            p->next_woken = c->managed;
            c->managed = p;
            break;
        default:
            sp_wake_word_set(&p->wake);
            break;
        }
        p = next;
    }
}

void sp_wake_ctx_host_end(sp_wake_ctx *c, sp_wakes *out)
{
    while (c->managed != NULL) {
        sp_party *p = c->managed;
        c->managed = p->next_woken;
        p->next_woken = out->managed;
        out->managed = p;
    }
    out->readied += c->readied;
}

/* ---- parking a goroutine ---------------------------------------------------- */

void sp_unlock_one(void *object) { sp_lock_release((sp_lock *)object); }

void sp_park(sp_party *p, sp_unlock_fn unlock, void *arg, int32_t reason, int outside)
{
    sp_g *g = p->g;
    p->wait_reason = reason;
    if (outside) {
        p->outside = 1;
        sp_sched_outside_add(p->sched, 1);
    }
    g->parked_on = p;
    g->wait_reason = reason;
    g->state = SP_G_WAITING;
    if (sp_run_park(unlock, arg))
        return;
    /* No run loop to switch in (a blocking section, the P taken meanwhile):
       the scheduler switches it out and releases the locks. */
    sp_request req;
    memset(&req, 0, sizeof req);
    req.op = SP_OP_PARK;
    req.args[0] = (uint64_t)(uintptr_t)p;
    req.args[1] = (uint64_t)(uintptr_t)unlock;
    req.args[2] = (uint64_t)(uintptr_t)arg;
    sp_coro_request(&req);
}

void sp_host_commit_park(sp_g *g, sp_request *req)
{
    (void)g;
    if (req == NULL || req->op != SP_OP_PARK)
        return;
    sp_unlock_fn unlock = (sp_unlock_fn)(uintptr_t)req->args[1];
    if (unlock != NULL)
        unlock((void *)(uintptr_t)req->args[2]);
}

void sp_host_discard(sp_g *g)
{
    if (g == NULL || g->parked_on == NULL)
        return;
    sp_party *p = g->parked_on;
    g->parked_on = NULL;
    p->claimed = 1; /* every worker has stopped: no one else claims it */
    unqueue_all(p, -1);
    if (p->timer != NULL)
        sp_timer_remove((sp_timer *)p->timer);
    if (p->outside)
        sp_sched_outside_add(p->sched, -1);
}

/* ---- host parties ------------------------------------------------------------ */

int sp_party_init(sp_party *p, int32_t kind, uint64_t token, sp_waiter *waiters, int32_t ncases)
{
    if (p == NULL || (kind != SP_PARTY_MANAGED && kind != SP_PARTY_THREAD) || ncases < 0 ||
        (waiters == NULL && ncases > 0))
        return SP_EINVAL;
    /* Every field a completer or a canceller reads; the waiters are written
       whole when they are queued. */
    sp_party_reset(p, kind, NULL, NULL, waiters, ncases);
    p->token = token;
    p->wake = 0;
    p->wait_reason = SP_WAIT_NONE;
    for (int32_t i = 0; i < ncases; i++)
        waiters[i].queue = NULL; /* what a cancel or a finish reads of a case never queued */
    return SP_OK;
}

int sp_party_cancel(sp_party *p)
{
    if (p == NULL)
        return SP_EINVAL;
    int32_t expected = 0;
    if (!__atomic_compare_exchange_n(&p->claimed, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return SP_ESTATE;
    unqueue_all(p, -1);
    if (p->timer != NULL)
        sp_timer_remove((sp_timer *)p->timer);
    p->result = SP_ECANCELED;
    if (p->kind == SP_PARTY_THREAD)
        sp_wake_word_set(&p->wake);
    return SP_OK;
}

void sp_party_finish(sp_party *p)
{
    if (p != NULL && p->ncases > 1)
        unqueue_all(p, p->chosen);
}

int sp_party_wait(sp_party *p)
{
    if (p == NULL || p->kind != SP_PARTY_THREAD)
        return SP_EINVAL;
    sp_wake_word_wait(&p->wake);
    sp_party_finish(p);
    return p->result;
}
