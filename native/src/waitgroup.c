/* Wait groups, Go's sync.WaitGroup for every kind of party: a counter that
   parties wait on until it is zero. A counter pushed below zero is refused
   and left as it was (Go panics). */
#include "engine.h"
#include "trace.h"
#include "state_pool.h"

_Static_assert(offsetof(sp_wg_state, obj) == 0, "the pool and the lookup take the lock, the first word");
_Static_assert(sizeof(sp_wg_state) % sizeof(void *) == 0, "a pool link after the state");
static sp_state_pool states;

int sp_wg_new(sp_wg *out, sp_sched *owner)
{
    if (out == NULL)
        return SP_EINVAL;
    *out = 0;
    sp_wg_state *wg = sp_state_pool_take_locked(&states, sizeof *wg);
    if (wg == NULL)
        return SP_ENOMEM;
    const sp_wg_state init = { .obj = { .kind = SP_HANDLE_WAIT_GROUP, .owner = owner, .outside = owner == NULL } };
    sp_state_pool_fill(wg, &init, sizeof *wg);
    wg->waiters.lock = &wg->obj.lock;
    int err = sp_handle_add(&wg->obj);
    if (err == SP_OK)
        *out = wg->obj.handle;
    object_unlock(&wg->obj);
    if (err != SP_OK)
        sp_state_pool_give(&states, wg, sizeof *wg);
    return err;
}

void sp_wg_free(sp_wg_state *wg) { sp_state_pool_give(&states, wg, sizeof *wg); }

static int add(sp_wg h, int64_t delta, sp_wake_ctx *c)
{
    int err;
    sp_wg_state *wg = (sp_wg_state *)sp_handle_lock(h, SP_HANDLE_WAIT_GROUP, &err);
    if (wg == NULL)
        return err;
    int64_t next = wg->count + delta;
    if (next < 0) {
        object_unlock(&wg->obj);
        return SP_EINVAL;
    }
    wg->count = next;
    if (next == 0)
        for (sp_waiter *w; (w = sp_waitq_take(&wg->waiters)) != NULL;)
            sp_wake_later(c, w->party, SP_OK);
    object_unlock(&wg->obj);
    sp_wake_flush(c);
    return SP_OK;
}

/* SP_OK at zero, else the party's waiter queued (SP_PARKED, wg still locked
   for a goroutine), or SP_WOULD_BLOCK without one. */
static int wait_or_queue(sp_wg h, sp_party *party, sp_waiter *w, int *outside, sp_wg_state **held)
{
    int err;
    sp_wg_state *wg = (sp_wg_state *)sp_handle_lock(h, SP_HANDLE_WAIT_GROUP, &err);
    if (wg == NULL)
        return err;
    if (wg->count == 0 || party == NULL) {
        int rc = wg->count == 0 ? SP_OK : SP_WOULD_BLOCK;
        object_unlock(&wg->obj);
        return rc;
    }
    sp_party_arm(party);
    *w = (sp_waiter){ .party = party };
    sp_waitq_push(&wg->waiters, w);
    *outside = wg->obj.outside;
    *held = wg;
    if (party->kind != SP_PARTY_GOROUTINE)
        object_unlock(&wg->obj);
    return SP_PARKED;
}

int sp_wg_make(sp_wg *out)
{
    sp_sched *s = sp_current_sched();
    return s == NULL ? SP_ENOTGOROUTINE : sp_wg_new(out, s);
}

int sp_wg_add(sp_wg h, int delta)
{
    if (sp_current_sched() == NULL)
        return SP_ENOTGOROUTINE;
    sp_wake_ctx c;
    sp_wake_ctx_begin(&c);
    int err = add(h, delta, &c);
    sp_wake_ctx_end(&c);
    return err;
}

int sp_wg_done(sp_wg h) { return sp_wg_add(h, -1); }

int sp_wg_wait(sp_wg h)
{
    sp_party p;
    sp_waiter w;
    if (sp_party_of_goroutine(&p, &w, 1) == NULL)
        return SP_ENOTGOROUTINE;
    int outside = 0;
    sp_wg_state *wg = NULL;
    int rc = wait_or_queue(h, &p, &w, &outside, &wg);
    if (rc != SP_PARKED)
        return rc;
    if (sp_tracing())
        sp_trace_blocked_on(h);
    sp_park(&p, sp_unlock_one, &wg->obj.lock, SP_WAIT_WAIT_GROUP, outside);
    return p.result;
}

int sp_wg_release(sp_wg h)
{
    sp_sched *s = sp_current_sched();
    if (s == NULL)
        return SP_ENOTGOROUTINE;
    sp_wake_ctx c;
    sp_wake_ctx_begin(&c);
    int err = sp_object_release(h, SP_HANDLE_WAIT_GROUP, s, &c);
    sp_wake_flush(&c);
    sp_wake_ctx_end(&c);
    return err;
}

int sp_host_wg_make(sp_wg *out) { return sp_wg_new(out, NULL); }

int sp_host_wg_add(sp_runq *here, sp_wg h, int64_t delta, sp_wakes *out)
{
    if (out == NULL)
        return SP_EINVAL;
    sp_wake_ctx c = sp_wake_ctx_host(here);
    int err = add(h, delta, &c);
    sp_wake_ctx_host_end(&c, out);
    return err;
}

int sp_host_wg_wait(sp_runq *here, sp_wg h, sp_party *party, sp_wakes *out)
{
    (void)here;
    if (out == NULL)
        return SP_EINVAL;
    int outside;
    sp_wg_state *wg;
    return wait_or_queue(h, party, party != NULL ? &party->waiters[0] : NULL, &outside, &wg);
}

int64_t sp_host_wg_count(sp_wg h)
{
    int err;
    sp_wg_state *wg = (sp_wg_state *)sp_handle_lock(h, SP_HANDLE_WAIT_GROUP, &err);
    if (wg == NULL)
        return err;
    int64_t n = wg->count;
    object_unlock(&wg->obj);
    return n;
}
