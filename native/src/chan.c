/*
 * Channels, after Go's runtime/chan.go.
 *
 * One owner. Every channel, whoever made it and whoever uses it (native
 * goroutines, managed goroutines, async code outside a runtime, plain
 * threads), is one sp_chan_state: a ring buffer of capacity elements, a
 * closed flag, and two FIFO queues of waiters, senders and receivers, all
 * under one lock (the object's first word). The rules live here and only
 * here; the C# Chan<T> is a thin layer over the host calls at the end.
 *
 * A send, under the lock:
 *   1. closed: SP_ECLOSED, nothing sent;
 *   2. a receiver waits: the element goes straight from the sender's memory
 *      into the receiver's (its stack, or the host's native memory for a
 *      managed or thread party), the receiver is claimed and woken;
 *   3. room in the buffer: the element goes to its tail;
 *   4. else the sender waits: its party joins the send queue, and it parks
 *      (a goroutine), returns SP_PARKED (a host party), or fails with
 *      SP_WOULD_BLOCK (no party: a try). A parked sender is completed by the
 *      receiver that takes its element, or by close (SP_ECLOSED), or by a
 *      release (SP_ESTALE).
 * A receive is the mirror image: a waiting sender (unbuffered: its element;
 * buffered, where a sender waits only on a full buffer: the buffer's head,
 * and the sender's element becomes the tail), the buffer, a closed channel's
 * zero value with ok false, or wait. Values therefore move by one copy, and
 * a buffered channel stays FIFO with parked senders.
 *
 * Invariants (under the lock): a receiver waits only when the buffer is
 * empty, a sender only when it is full (or unbuffered with no receiver); a
 * closed channel has no waiting senders; a waiter in a queue belongs to a
 * party that may already be claimed elsewhere (a select another case won, a
 * cancelled host party), and whoever takes it out of the queue skips it.
 *
 * Waking. A party claimed under the lock is completed (its result, its ok,
 * its element copied) under the lock and woken once the lock is released:
 * sp_wake_later/sp_wake_flush (park.c). A goroutine woken by a goroutine in
 * the run loop goes to runnext of that processor, as Go's goready does, so
 * a ping-pong stays on one core; a managed party is handed to the host.
 *
 * Parking. A goroutine that must wait queues itself under the lock and
 * parks; the lock is released only once it is switched out (sp_park), so a
 * counterpart that finds it in the queue can never ready it before it has
 * stopped running. Its party and waiter live on its own stack, which does
 * not move while it waits.
 *
 * Alternatives rejected. Managed copies of the queues (the state was shared,
 * the rules written twice, a send that missed the native path crossed
 * between C and C# four times); a lock-free buffer (Go keeps one lock: the
 * critical sections are a few dozen instructions and a copy).
 */
#include "engine.h"
#include "trace.h"
#include "state_pool.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(sp_chan_state, obj) == 0 && offsetof(sp_object, lock) == 0,
               "the pool and the lookup take the lock, the first word");
_Static_assert(sizeof(sp_chan_state) % sizeof(void *) == 0, "a pool link after the state");
static sp_state_pool states;

/* ---- making and releasing ----------------------------------------------------- */

int sp_chan_new(sp_chan *out, int64_t elem_size, int64_t capacity, sp_sched *owner, sp_chan_state **state)
{
    if (out == NULL)
        return SP_EINVAL;
    *out = 0;
    if (elem_size < 0 || elem_size > SP_CHAN_MAX_ELEM || capacity < 0 || capacity > INT32_MAX ||
        elem_size * capacity > INT32_MAX)
        return SP_EINVAL;
    size_t bytes = (size_t)(elem_size * capacity);
    uint8_t *buffer = NULL;
    if (bytes > 0 && (buffer = malloc(bytes)) == NULL)
        return SP_ENOMEM;
    sp_chan_state *ch = sp_state_pool_take_locked(&states, sizeof *ch);
    if (ch == NULL) {
        free(buffer);
        return SP_ENOMEM;
    }
    const sp_chan_state init = {
        .obj = { .kind = SP_HANDLE_CHAN, .owner = owner, .outside = owner == NULL },
        .elem_size = (int32_t)elem_size,
        .capacity = (int32_t)capacity,
        .buffer = buffer,
    };
    sp_state_pool_fill(ch, &init, sizeof *ch);
    ch->recvq.lock = ch->sendq.lock = &ch->obj.lock;
    int err = sp_handle_add(&ch->obj);
    if (err != SP_OK) {
        free(buffer);
        object_unlock(&ch->obj);
        sp_state_pool_give(&states, ch, sizeof *ch);
        return err;
    }
    *out = ch->obj.handle;
    if (state != NULL)
        *state = ch; /* still locked */
    else
        object_unlock(&ch->obj);
    return SP_OK;
}

void sp_chan_release_locked(sp_chan_state *ch, sp_wake_ctx *c)
{
    sp_waitq_fail_all(&ch->recvq, SP_ESTALE, c);
    sp_waitq_fail_all(&ch->sendq, SP_ESTALE, c);
    sp_handle_remove(&ch->obj);
    sp_timer *timer = ch->timer;
    uint8_t *buffer = ch->buffer;
    ch->timer = NULL;
    ch->buffer = NULL;
    object_unlock(&ch->obj);
    /* Timers fire under their heap's lock, then take the channel's: the
       timer leaves its heap only now, with no channel lock held. A firing
       that came first found the handle gone and did nothing. */
    if (timer != NULL) {
        sp_timer_remove(timer);
        free(timer);
    }
    free(buffer); /* at once: the memory of a released channel never waits for a collector */
    sp_state_pool_give(&states, ch, sizeof *ch);
}

/* ---- the rules, under the lock --------------------------------------------------- */

static inline void copy_elem(const sp_chan_state *ch, void *to, const void *from)
{
    if (to == NULL)
        return;
    switch (ch->elem_size) { /* the common sizes without a call into libc */
    case 0: return;
    case 4: memcpy(to, from, 4); return;
    case 8: memcpy(to, from, 8); return;
    case 16: memcpy(to, from, 16); return;
    default: memcpy(to, from, (size_t)ch->elem_size); return;
    }
}

static inline void zero_elem(const sp_chan_state *ch, void *elem)
{
    if (ch->elem_size != 0 && elem != NULL)
        memset(elem, 0, (size_t)ch->elem_size);
}

static inline uint8_t *slot(const sp_chan_state *ch, int32_t i)
{
    return ch->buffer + (size_t)i * (size_t)ch->elem_size;
}

int sp_chan_try_send_locked(sp_chan_state *ch, const void *elem, sp_wake_ctx *c, int *result)
{
    if (ch->closed) {
        *result = SP_ECLOSED;
        return 1;
    }
    sp_waiter *r = sp_waitq_take(&ch->recvq);
    if (r != NULL) {
        copy_elem(ch, r->elem, elem);
        r->party->ok = 1;
        sp_wake_later(c, r->party, SP_OK);
        *result = SP_OK;
        return 1;
    }
    if (ch->count < ch->capacity) {
        copy_elem(ch, slot(ch, (ch->head + ch->count) % ch->capacity), elem);
        ch->count++;
        *result = SP_OK;
        return 1;
    }
    return 0;
}

int sp_chan_try_recv_locked(sp_chan_state *ch, void *elem, bool *ok, sp_wake_ctx *c)
{
    sp_waiter *s = sp_waitq_take(&ch->sendq);
    if (s != NULL) {
        if (ch->capacity == 0) {
            copy_elem(ch, elem, s->elem);
        } else {
            /* A sender waits only on a full buffer: take its head, and the
               sender's element becomes the tail, the slot just freed. */
            copy_elem(ch, elem, slot(ch, ch->head));
            copy_elem(ch, slot(ch, ch->head), s->elem);
            ch->head = (ch->head + 1) % ch->capacity;
        }
        sp_wake_later(c, s->party, SP_OK);
        *ok = true;
        return 1;
    }
    if (ch->count > 0) {
        copy_elem(ch, elem, slot(ch, ch->head));
        ch->head = (ch->head + 1) % ch->capacity;
        ch->count--;
        *ok = true;
        return 1;
    }
    if (ch->closed) {
        zero_elem(ch, elem);
        *ok = false;
        return 1;
    }
    return 0;
}

static int close_locked(sp_chan_state *ch, sp_wake_ctx *c)
{
    if (ch->closed)
        return SP_ECLOSED;
    ch->closed = 1;
    for (sp_waiter *r; (r = sp_waitq_take(&ch->recvq)) != NULL;) {
        zero_elem(ch, r->elem);
        r->party->ok = 0;
        sp_wake_later(c, r->party, SP_OK);
    }
    for (sp_waiter *s; (s = sp_waitq_take(&ch->sendq)) != NULL;)
        sp_wake_later(c, s->party, SP_ECLOSED);
    return SP_OK;
}

int sp_object_has_waiters(const sp_object *o)
{
    switch (o->kind) {
    case SP_HANDLE_CHAN: {
        const sp_chan_state *ch = (const sp_chan_state *)o;
        return !sp_waitq_empty(&ch->recvq) || !sp_waitq_empty(&ch->sendq);
    }
    case SP_HANDLE_MUTEX:
        return !sp_waitq_empty(&((const sp_mutex_state *)o)->waiters) || ((const sp_mutex_state *)o)->locked;
    default:
        return !sp_waitq_empty(&((const sp_wg_state *)o)->waiters);
    }
}

static sp_chan_state *lock_chan(sp_chan h, int *err)
{
    return (sp_chan_state *)sp_handle_lock(h, SP_HANDLE_CHAN, err);
}

/* ---- one operation, for any party ------------------------------------------------ */

/* A send or receive: performed at once, or the party queued (a goroutine then
   parks; a host party's caller gets SP_PARKED), or SP_WOULD_BLOCK with no
   party. c is begun by the caller and flushed here. */
static int chan_op(sp_chan h, int send, void *elem, bool *ok, sp_party *party, sp_waiter *w, sp_wake_ctx *c,
                   int *outside)
{
    int err;
    sp_chan_state *ch = lock_chan(h, &err);
    if (ch == NULL)
        return err;
    if (send && elem == NULL && ch->elem_size != 0) {
        object_unlock(&ch->obj);
        return SP_EINVAL;
    }
    int result = SP_OK;
    bool got = false;
    if (send ? sp_chan_try_send_locked(ch, elem, c, &result) : sp_chan_try_recv_locked(ch, elem, &got, c)) {
        object_unlock(&ch->obj);
        sp_wake_flush(c);
        if (ok != NULL)
            *ok = got;
        return result;
    }
    if (party == NULL) {
        object_unlock(&ch->obj);
        return SP_WOULD_BLOCK;
    }
    sp_party_arm(party);
    *w = (sp_waiter){ .party = party, .elem = elem, .index = 0, .is_send = send };
    sp_waitq_push(send ? &ch->sendq : &ch->recvq, w);
    *outside = ch->obj.outside;
    if (party->kind != SP_PARTY_GOROUTINE)
        object_unlock(&ch->obj);
    else if (sp_tracing()) /* here, where the handle is at hand: goroutine_op keeps no register for it */
        sp_trace_blocked_on(ch->obj.handle);
    /* a goroutine's caller parks, and the lock goes once it is out */
    return SP_PARKED;
}

/* A goroutine's send or receive. */
static int goroutine_op(sp_chan h, int send, void *elem, bool *ok)
{
    sp_party p;
    sp_waiter w;
    if (sp_party_of_goroutine(&p, &w, 1) == NULL)
        return SP_ENOTGOROUTINE;
    if (h == 0) { /* the nil channel: forever, in no queue */
        p.ncases = 0;
        sp_park(&p, NULL, NULL, send ? SP_WAIT_CHAN_SEND_NIL : SP_WAIT_CHAN_RECV_NIL, 0);
        return SP_OK; /* never: the runtime discards it when it stops */
    }
    sp_wake_ctx c;
    sp_wake_ctx_begin(&c);
    int outside = 0;
    int rc = chan_op(h, send, elem, ok, &p, &w, &c, &outside);
    sp_wake_ctx_end(&c);
    if (rc != SP_PARKED)
        return rc;
    /* Queued under the channel's lock, still held. */
    sp_park(&p, sp_unlock_one, w.queue->lock, send ? SP_WAIT_CHAN_SEND : SP_WAIT_CHAN_RECV, outside);
    if (ok != NULL)
        *ok = p.result == SP_OK && p.ok;
    return p.result;
}

/* ---- the goroutine calls ----------------------------------------------------------- */

int sp_chan_make(sp_chan *out, size_t elem_size, size_t capacity)
{
    sp_sched *s = sp_current_sched();
    if (s == NULL)
        return SP_ENOTGOROUTINE;
    if (out == NULL)
        return SP_EINVAL;
    if (elem_size > SP_CHAN_MAX_ELEM || capacity > INT32_MAX) {
        *out = 0;
        return SP_EINVAL;
    }
    return sp_chan_new(out, (int64_t)elem_size, (int64_t)capacity, s, NULL);
}

int sp_chan_send(sp_chan ch, const void *elem) { return goroutine_op(ch, 1, (void *)elem, NULL); }

int sp_chan_recv(sp_chan ch, void *elem, bool *ok)
{
    bool got = false;
    int rc = goroutine_op(ch, 0, elem, &got);
    if (ok != NULL)
        *ok = rc == SP_OK && got;
    return rc;
}

/* Close, len and cap, for goroutines and the host. */
static int close_chan(sp_chan h, sp_wake_ctx *c)
{
    if (h == 0)
        return SP_EINVAL;
    int err;
    sp_chan_state *ch = lock_chan(h, &err);
    if (ch == NULL)
        return err;
    err = close_locked(ch, c);
    object_unlock(&ch->obj);
    sp_wake_flush(c);
    return err;
}

static int query(sp_chan h, int cap)
{
    if (h == 0)
        return 0;
    int err;
    sp_chan_state *ch = lock_chan(h, &err);
    if (ch == NULL)
        return err;
    int n = cap ? ch->capacity : ch->count;
    object_unlock(&ch->obj);
    return n;
}

int sp_chan_close(sp_chan h)
{
    if (sp_current_sched() == NULL)
        return SP_ENOTGOROUTINE;
    sp_wake_ctx c;
    sp_wake_ctx_begin(&c);
    int err = close_chan(h, &c);
    sp_wake_ctx_end(&c);
    return err;
}

int sp_chan_len(sp_chan h) { return sp_current_sched() == NULL ? SP_ENOTGOROUTINE : query(h, 0); }
int sp_chan_cap(sp_chan h) { return sp_current_sched() == NULL ? SP_ENOTGOROUTINE : query(h, 1); }

int sp_chan_release(sp_chan h)
{
    sp_sched *s = sp_current_sched();
    if (s == NULL)
        return SP_ENOTGOROUTINE;
    if (h == 0)
        return SP_EINVAL;
    sp_wake_ctx c;
    sp_wake_ctx_begin(&c);
    int err = sp_object_release(h, SP_HANDLE_CHAN, s, &c);
    sp_wake_flush(&c);
    sp_wake_ctx_end(&c);
    return err;
}

/* ---- the host's calls --------------------------------------------------------------- */

int sp_host_chan_make(sp_chan *out, int32_t elem_size, int32_t capacity)
{
    return sp_chan_new(out, elem_size, capacity, NULL, NULL);
}

int sp_host_chan_send(sp_runq *here, sp_chan ch, const void *elem, sp_party *party, sp_wakes *out)
{
    if (out == NULL)
        return SP_EINVAL;
    if (ch == 0) /* the nil channel: a host party waits forever, a try never succeeds */
        return party != NULL ? SP_PARKED : SP_WOULD_BLOCK;
    sp_wake_ctx c = sp_wake_ctx_host(here);
    sp_waiter *w = party != NULL ? &party->waiters[0] : NULL;
    int outside;
    int rc = chan_op(ch, 1, (void *)elem, NULL, party, w, &c, &outside);
    sp_wake_ctx_host_end(&c, out);
    return rc;
}

int sp_host_chan_recv(sp_runq *here, sp_chan ch, void *elem, bool *ok, sp_party *party, sp_wakes *out)
{
    if (out == NULL)
        return SP_EINVAL;
    if (ch == 0)
        return party != NULL ? SP_PARKED : SP_WOULD_BLOCK;
    sp_wake_ctx c = sp_wake_ctx_host(here);
    sp_waiter *w = party != NULL ? &party->waiters[0] : NULL;
    int outside;
    int rc = chan_op(ch, 0, elem, ok, party, w, &c, &outside);
    sp_wake_ctx_host_end(&c, out);
    return rc;
}

int sp_host_chan_close(sp_runq *here, sp_chan ch, sp_wakes *out)
{
    if (out == NULL)
        return SP_EINVAL;
    sp_wake_ctx c = sp_wake_ctx_host(here);
    int err = close_chan(ch, &c);
    sp_wake_ctx_host_end(&c, out);
    return err;
}

int sp_host_chan_len(sp_chan ch) { return query(ch, 0); }
int sp_host_chan_cap(sp_chan ch) { return query(ch, 1); }

int sp_host_chan_elem_size(sp_chan h)
{
    int err;
    sp_chan_state *ch = lock_chan(h, &err);
    if (ch == NULL)
        return err;
    int n = ch->elem_size;
    object_unlock(&ch->obj);
    return n;
}

static int32_t queue_length(const sp_waitq *q)
{
    int32_t n = 0;
    for (const sp_waiter *w = q->first; w != NULL; w = w->next)
        n++;
    return n;
}

int sp_host_chan_waiters(sp_chan h, int32_t *senders, int32_t *receivers)
{
    int err;
    sp_chan_state *ch = lock_chan(h, &err);
    if (ch == NULL)
        return err;
    if (senders != NULL)
        *senders = queue_length(&ch->sendq);
    if (receivers != NULL)
        *receivers = queue_length(&ch->recvq);
    int closed = ch->closed;
    object_unlock(&ch->obj);
    return closed;
}
