/* Sleeps: a timer on the processor's heap that completes the sleeping party
   (a native goroutine's, or a managed goroutine's, which the host resolves).
   Sleepers wake in deadline order, never early. */
#include "engine.h"

static int64_t wake_sleeper(sp_timer *t, int64_t now, sp_wake_ctx *c)
{
    (void)now;
    sp_party *p = t->arg;
    if (sp_party_claim(p)) /* a host party may have been cancelled */
        sp_wake_later(c, p, SP_OK);
    return 0;
}

static int64_t deadline(int64_t ns)
{
    int64_t now = sp_clock_now();
    return ns > INT64_MAX - now ? INT64_MAX : now + ns;
}

static void unlock_heap(void *heap) { sp_timers_unlock(heap); }

int sp_sleep(int64_t nanoseconds)
{
    sp_party p;
    if (sp_party_of_goroutine(&p, NULL, 0) == NULL)
        return SP_ENOTGOROUTINE;
    if (nanoseconds <= 0)
        return sp_gosched();
    sp_runq *q = NULL;
    sp_run_current(&q, NULL);
    sp_timer t = { .fire = wake_sleeper, .arg = &p };
    p.timer = &t;
    sp_timers_lock(&q->timers);
    if (sp_timers_add_locked(&q->timers, &t, deadline(nanoseconds)) != SP_OK) {
        sp_timers_unlock(&q->timers);
        return SP_ENOMEM;
    }
    /* The heap stays locked until the sleeper is out: a timer run by another
       worker cannot ready it before it has stopped running. */
    sp_park(&p, unlock_heap, &q->timers, SP_WAIT_SLEEP, 0);
    return SP_OK;
}

int sp_host_sleep(sp_runq *here, int64_t nanoseconds, void *timer, sp_party *party)
{
    if (here == NULL || timer == NULL || party == NULL || nanoseconds < 0)
        return SP_EINVAL;
    sp_timer *t = timer;
    *t = (sp_timer){ .fire = wake_sleeper, .arg = party };
    sp_party_arm(party);
    party->timer = t;
    sp_timers_lock(&here->timers);
    int err = sp_timers_add_locked(&here->timers, t, deadline(nanoseconds));
    sp_timers_unlock(&here->timers);
    return err == SP_OK ? SP_PARKED : err;
}
