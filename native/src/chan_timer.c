/* Timer and ticker channels, Go's time.After and time.Ticker: a channel of
   capacity 1 and a timer on a processor's heap that sends the monotonic time
   on it without waiting, so that a tick nobody has read yet makes the next
   one drop, as in Go. Releasing the channel stops and frees the timer at
   once (Go 1.23 made unreferenced timers collectable for the same reason: a
   released timer must not wait for its deadline, and a released ticker must
   not tick on). */
#include "engine.h"

#include <stdlib.h>

typedef struct chan_timer {
    sp_timer t;
    int64_t period;       /* 0: once */
    sp_chan_state *ch;
    uint64_t handle;      /* the channel's: its state may hold another channel later */
    int32_t stopped;
    int32_t reserved;
} chan_timer;

/* Sends the time on ct's channel (locked, still ct's); returns the next
   deadline of a ticker that goes on, else 0. */
static int64_t tick_locked(chan_timer *ct, int64_t now, sp_wake_ctx *c)
{
    int result;
    sp_chan_try_send_locked(ct->ch, &now, c, &result); /* full: this tick is dropped */
    if (ct->period == 0 || ct->stopped) {
        ct->stopped = 1;
        return 0;
    }
    /* The next tick after now, skipping the ones missed. */
    return ct->t.when + ct->period * (1 + (now - ct->t.when) / ct->period);
}

static int64_t fire(sp_timer *t, int64_t now, sp_wake_ctx *c)
{
    chan_timer *ct = (chan_timer *)t;
    object_lock(&ct->ch->obj);
    int64_t next = 0;
    if (ct->ch->obj.handle == ct->handle && !ct->stopped)
        next = tick_locked(ct, now, c);
    object_unlock(&ct->ch->obj);
    return next;
}

static int64_t deadline_after(int64_t ns)
{
    int64_t now = sp_clock_now();
    if (ns <= 0)
        return now;
    return ns > INT64_MAX - now ? INT64_MAX : now + ns;
}

typedef struct make_call {
    sp_chan *out;
    sp_sched *owner;
    sp_timers *heap;    /* NULL: the host fires it (sp_host_fire) */
    int64_t first;      /* nanoseconds to the first tick */
    int64_t period;
    int forever;
    int err;
} make_call;

/* On the thread's own stack (malloc is deep). */
static void make_timer_chan(void *arg)
{
    make_call *m = arg;
    sp_chan_state *ch;
    m->err = sp_chan_new(m->out, sizeof(int64_t), 1, m->owner, &ch);
    if (m->err != SP_OK)
        return;
    if (m->forever) {
        object_unlock(&ch->obj);
        return;
    }
    chan_timer *ct = calloc(1, sizeof *ct);
    if (ct == NULL) {
        sp_wake_ctx none = { 0 };
        sp_chan_release_locked(ch, &none);
        *m->out = 0;
        m->err = SP_ENOMEM;
        return;
    }
    ct->t.fire = fire;
    ct->t.arg = ct;
    ct->period = m->period;
    ct->ch = ch;
    ct->handle = *m->out;
    ct->t.when = deadline_after(m->first);
    ch->timer = &ct->t;
    /* No one else knows the channel yet: its timer joins the heap unlocked. */
    object_unlock(&ch->obj);
    if (m->heap != NULL) {
        sp_timers_lock(m->heap);
        int err = sp_timers_add_locked(m->heap, &ct->t, ct->t.when);
        sp_timers_unlock(m->heap);
        if (err != SP_OK) {
            sp_wake_ctx none = { 0 };
            object_lock(&ch->obj);
            sp_chan_release_locked(ch, &none);
            *m->out = 0;
            m->err = err;
        }
    }
}

static int goroutine_timer(sp_chan *out, int64_t first, int64_t period)
{
    sp_runq *q = NULL;
    if (sp_run_current(&q, NULL) == NULL)
        return SP_ENOTGOROUTINE;
    if (out == NULL)
        return SP_EINVAL;
    make_call m = { .out = out, .owner = q->sched, .heap = &q->timers, .first = first, .period = period };
    sp_systemstack(make_timer_chan, &m);
    return m.err;
}

int sp_after(sp_chan *out, int64_t nanoseconds) { return goroutine_timer(out, nanoseconds, 0); }

int sp_ticker_make(sp_chan *out, int64_t period_ns)
{
    if (sp_current_sched() != NULL && period_ns <= 0) {
        if (out != NULL)
            *out = 0;
        return SP_EINVAL;
    }
    return goroutine_timer(out, period_ns, period_ns);
}

/* Stops a ticker: SP_OK, SP_EINVAL for a channel without a periodic timer. */
static int stop(sp_chan h)
{
    int err;
    sp_chan_state *ch = (sp_chan_state *)sp_handle_lock(h, SP_HANDLE_CHAN, &err);
    if (ch == NULL)
        return err;
    chan_timer *ct = (chan_timer *)ch->timer;
    if (ct == NULL || ct->period == 0) {
        object_unlock(&ch->obj);
        return SP_EINVAL;
    }
    ct->stopped = 1;
    object_unlock(&ch->obj);
    /* A firing under way saw it stopped; once out of the heap none is. */
    sp_timer_remove(&ct->t);
    return SP_OK;
}

int sp_ticker_stop(sp_chan ticker)
{
    if (sp_current_sched() == NULL)
        return SP_ENOTGOROUTINE;
    return stop(ticker);
}

int sp_host_after(sp_runq *here, int64_t nanoseconds, bool forever, sp_chan *out)
{
    if (out == NULL)
        return SP_EINVAL;
    make_call m = { .out = out, .heap = here != NULL ? &here->timers : NULL, .first = nanoseconds, .forever = forever };
    make_timer_chan(&m);
    return m.err;
}

int sp_host_ticker_make(sp_runq *here, int64_t period_ns, sp_chan *out)
{
    if (out == NULL)
        return SP_EINVAL;
    *out = 0;
    if (period_ns <= 0)
        return SP_EINVAL;
    make_call m = { .out = out, .heap = here != NULL ? &here->timers : NULL, .first = period_ns, .period = period_ns };
    make_timer_chan(&m);
    return m.err;
}

int sp_host_ticker_stop(sp_chan ticker) { return stop(ticker); }

int64_t sp_host_fire(sp_chan h, sp_wakes *out)
{
    if (out == NULL)
        return 0;
    int err;
    sp_chan_state *ch = (sp_chan_state *)sp_handle_lock(h, SP_HANDLE_CHAN, &err);
    if (ch == NULL)
        return 0;
    chan_timer *ct = (chan_timer *)ch->timer;
    int64_t next = 0, now = sp_clock_now();
    sp_wake_ctx c = sp_wake_ctx_host(NULL);
    /* Its heap pointer is written under a heap's lock, not this one (timer.c). */
    if (ct != NULL && __atomic_load_n(&ct->t.heap, __ATOMIC_RELAXED) == NULL && !ct->stopped) {
        next = tick_locked(ct, now, &c);
        if (next != 0)
            ct->t.when = next;
    }
    object_unlock(&ch->obj);
    sp_wake_flush(&c);
    sp_wake_ctx_host_end(&c, out);
    return next != 0 ? (next > now ? next - now : 1) : 0;
}
