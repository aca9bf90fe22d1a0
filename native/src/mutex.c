/* Mutexes, Go's sync.Mutex for every kind of party: not owned (anyone may
   unlock it), and an unlock hands the mutex straight to the longest waiter,
   so waiters get it in arrival order and none starves (Go switches to this
   hand-off, its starvation mode, after a waiter has waited 1 ms; Spindle
   always hands off). */
#include "engine.h"
#include "trace.h"
#include "state_pool.h"

_Static_assert(offsetof(sp_mutex_state, obj) == 0, "the pool and the lookup take the lock, the first word");
_Static_assert(sizeof(sp_mutex_state) % sizeof(void *) == 0, "a pool link after the state");
static sp_state_pool states;

int sp_mutex_new(sp_mutex *out, sp_sched *owner)
{
    if (out == NULL)
        return SP_EINVAL;
    *out = 0;
    sp_mutex_state *m = sp_state_pool_take_locked(&states, sizeof *m);
    if (m == NULL)
        return SP_ENOMEM;
    const sp_mutex_state init = { .obj = { .kind = SP_HANDLE_MUTEX, .owner = owner, .outside = owner == NULL } };
    sp_state_pool_fill(m, &init, sizeof *m);
    m->waiters.lock = &m->obj.lock;
    int err = sp_handle_add(&m->obj);
    if (err == SP_OK)
        *out = m->obj.handle;
    object_unlock(&m->obj);
    if (err != SP_OK)
        sp_state_pool_give(&states, m, sizeof *m);
    return err;
}

void sp_mutex_free(sp_mutex_state *m) { sp_state_pool_give(&states, m, sizeof *m); }

/* Locks m, or queues party's waiter (SP_PARKED, m still locked for a
   goroutine, unlocked for a host party), or SP_WOULD_BLOCK without one. */
static int lock_or_queue(sp_mutex h, sp_party *party, sp_waiter *w, int *outside, sp_mutex_state **held)
{
    int err;
    sp_mutex_state *m = (sp_mutex_state *)sp_handle_lock(h, SP_HANDLE_MUTEX, &err);
    if (m == NULL)
        return err;
    if (!m->locked) {
        m->locked = 1;
        object_unlock(&m->obj);
        return SP_OK;
    }
    if (party == NULL) {
        object_unlock(&m->obj);
        return SP_WOULD_BLOCK;
    }
    sp_party_arm(party);
    *w = (sp_waiter){ .party = party };
    sp_waitq_push(&m->waiters, w);
    *outside = m->obj.outside;
    *held = m;
    if (party->kind != SP_PARTY_GOROUTINE)
        object_unlock(&m->obj);
    return SP_PARKED;
}

/* Unlocks m, handing it to the longest waiter: SP_OK, or SP_ESTATE when it
   is not locked. */
static int unlock_mutex(sp_mutex h, sp_wake_ctx *c)
{
    int err;
    sp_mutex_state *m = (sp_mutex_state *)sp_handle_lock(h, SP_HANDLE_MUTEX, &err);
    if (m == NULL)
        return err;
    if (!m->locked) {
        object_unlock(&m->obj);
        return SP_ESTATE;
    }
    sp_waiter *w = sp_waitq_take(&m->waiters);
    if (w != NULL)
        sp_wake_later(c, w->party, SP_OK); /* it owns the mutex now */
    else
        m->locked = 0;
    object_unlock(&m->obj);
    sp_wake_flush(c);
    return SP_OK;
}

int sp_mutex_make(sp_mutex *out)
{
    sp_sched *s = sp_current_sched();
    return s == NULL ? SP_ENOTGOROUTINE : sp_mutex_new(out, s);
}

int sp_mutex_lock(sp_mutex h)
{
    sp_party p;
    sp_waiter w;
    if (sp_party_of_goroutine(&p, &w, 1) == NULL)
        return SP_ENOTGOROUTINE;
    int outside = 0;
    sp_mutex_state *m = NULL;
    int rc = lock_or_queue(h, &p, &w, &outside, &m);
    if (rc != SP_PARKED)
        return rc;
    if (sp_tracing())
        sp_trace_blocked_on(h);
    sp_park(&p, sp_unlock_one, &m->obj.lock, SP_WAIT_MUTEX, outside);
    return p.result;
}

int sp_mutex_unlock(sp_mutex h)
{
    if (sp_current_sched() == NULL)
        return SP_ENOTGOROUTINE;
    sp_wake_ctx c;
    sp_wake_ctx_begin(&c);
    int err = unlock_mutex(h, &c);
    sp_wake_ctx_end(&c);
    return err;
}

int sp_mutex_release(sp_mutex h)
{
    sp_sched *s = sp_current_sched();
    if (s == NULL)
        return SP_ENOTGOROUTINE;
    sp_wake_ctx c;
    sp_wake_ctx_begin(&c);
    int err = sp_object_release(h, SP_HANDLE_MUTEX, s, &c);
    sp_wake_flush(&c);
    sp_wake_ctx_end(&c);
    return err;
}

int sp_host_mutex_make(sp_mutex *out) { return sp_mutex_new(out, NULL); }

int sp_host_mutex_lock(sp_runq *here, sp_mutex h, sp_party *party, sp_wakes *out)
{
    (void)here;
    if (out == NULL)
        return SP_EINVAL;
    int outside;
    sp_mutex_state *m;
    return lock_or_queue(h, party, party != NULL ? &party->waiters[0] : NULL, &outside, &m);
}

int sp_host_mutex_unlock(sp_runq *here, sp_mutex h, sp_wakes *out)
{
    if (out == NULL)
        return SP_EINVAL;
    sp_wake_ctx c = sp_wake_ctx_host(here);
    int err = unlock_mutex(h, &c);
    sp_wake_ctx_host_end(&c, out);
    return err;
}
