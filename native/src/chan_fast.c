/* Channel sends and receives that a native goroutine completes on its own
   stack, without a runtime call: a parked native partner, room or elements in
   the buffer, or parking in the channel's native queue. They apply while the
   goroutine runs in the run loop (which holds its processor) and the channel
   is open, native-only and has no party the managed runtime queued; any
   other case goes to the runtime, which sees the same state. */
#include "chan_native.h"

#include <stddef.h>
#include <string.h>

static inline void copy_elem(const sp_chan_state *ch, void *to, const void *from)
{
    if (ch->elem_size != 0 && to != NULL)
        memcpy(to, from, (size_t)ch->elem_size);
}

static inline uint8_t *slot(const sp_chan_state *ch, int32_t i)
{
    return ch->buffer + (size_t)i * (size_t)ch->elem_size;
}

/* Locks the channel handle names if the fast path may use it; NULL (and
   unlocked) otherwise. */
static sp_chan_state *lock_for_fast_path(uint64_t handle)
{
    sp_chan_state *ch = sp_mirror_lock_published(&sp_chan_handles, handle, offsetof(sp_chan_state, handle));
    if (ch != NULL && (ch->flags != 0 || ch->managed_waiters != 0)) {
        chan_unlock(ch);
        return NULL;
    }
    return ch;
}

/* Completes w, a parked partner taken out of its queue: ready its goroutine
   (the caller has checked there is room: sp_run_ready_begin). */
static void wake(sp_chan_state *ch, sp_chan_waiter *w)
{
    sp_g *g = w->g;
    g->parked_on = NULL;
    chan_unlock(ch);
    sp_run_ready(g); /* after this, w (on g's stack) may be gone */
}

int sp_chan_fast_send(uint64_t handle, const void *elem, int *result)
{
    sp_g *self = sp_run_current();
    if (self == NULL || handle == 0)
        return 0;
    sp_chan_state *ch = lock_for_fast_path(handle);
    if (ch == NULL)
        return 0;
    if (elem == NULL && ch->elem_size != 0) {
        chan_unlock(ch);
        return 0; /* the runtime's error */
    }
    sp_chan_waiter *r = ch->recv_first;
    if (r != NULL) {
        if (!sp_run_ready_begin()) {
            chan_unlock(ch);
            return 0;
        }
        sp_chan_remove_waiter(r);
        copy_elem(ch, r->elem, elem);
        r->ok = 1;
        r->result = SP_OK;
        wake(ch, r);
        *result = SP_OK;
        return 1;
    }
    if (ch->count < ch->capacity) {
        copy_elem(ch, slot(ch, (ch->head + ch->count) % ch->capacity), elem);
        ch->count++;
        chan_unlock(ch);
        *result = SP_OK;
        return 1;
    }
    sp_chan_waiter w = { .g = self, .elem = (void *)elem, .is_send = 1, .result = SP_OK };
    sp_chan_enqueue(ch, &w);
    self->parked_on = &w;
    sp_run_park(&ch->lock, SP_WAIT_CHAN_SEND); /* unlocks once switched out */
    *result = w.result;
    return 1;
}

int sp_chan_fast_recv(uint64_t handle, void *elem, bool *ok, int *result)
{
    sp_g *self = sp_run_current();
    if (self == NULL || handle == 0)
        return 0;
    sp_chan_state *ch = lock_for_fast_path(handle);
    if (ch == NULL)
        return 0;
    sp_chan_waiter *s = ch->send_first;
    if (s != NULL) {
        if (!sp_run_ready_begin()) {
            chan_unlock(ch);
            return 0;
        }
        sp_chan_remove_waiter(s);
        if (ch->capacity == 0) {
            copy_elem(ch, elem, s->elem);
        } else {
            /* A sender waits only on a full buffer: take its head, and the
               sender's element becomes the tail, the slot just freed. */
            copy_elem(ch, elem, slot(ch, ch->head));
            copy_elem(ch, slot(ch, ch->head), s->elem);
            ch->head = (ch->head + 1) % ch->capacity;
        }
        s->result = SP_OK;
        wake(ch, s);
        *ok = true;
        *result = SP_OK;
        return 1;
    }
    if (ch->count > 0) {
        copy_elem(ch, elem, slot(ch, ch->head));
        ch->head = (ch->head + 1) % ch->capacity;
        ch->count--;
        chan_unlock(ch);
        *ok = true;
        *result = SP_OK;
        return 1;
    }
    sp_chan_waiter w = { .g = self, .elem = elem, .is_send = 0, .result = SP_OK };
    sp_chan_enqueue(ch, &w);
    self->parked_on = &w;
    sp_run_park(&ch->lock, SP_WAIT_CHAN_RECV);
    *ok = w.ok != 0;
    *result = w.result;
    return 1;
}
