/* Channel state in native memory: allocation, the handle mirror that lets a
   goroutine find a channel without the runtime, and the native waiter queues.
   The fast path that uses them is chan_fast.c. */
#include "chan_native.h"
#include "state_pool.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- states: never returned to the system (state_pool.h) ----------------- */

_Static_assert(sizeof(sp_chan_state) % sizeof(void *) == 0, "a pool link after the state");
_Static_assert(offsetof(sp_chan_state, lock) == 0, "the pool takes the lock, the first word");
static sp_state_pool states;

int sp_chan_state_make(sp_chan_state **out, int32_t elem_size, int32_t capacity)
{
    if (out == NULL)
        return SP_EINVAL;
    *out = NULL;
    if (elem_size < 0 || elem_size > SP_CHAN_MAX_ELEM || capacity < 0 ||
        (int64_t)elem_size * capacity > INT32_MAX)
        return SP_EINVAL;
    size_t bytes = (size_t)elem_size * (size_t)capacity;
    uint8_t *buffer = NULL;
    if (bytes > 0 && (buffer = malloc(bytes)) == NULL)
        return SP_ENOMEM;
    sp_chan_state *ch = sp_state_pool_take_locked(&states, sizeof *ch);
    if (ch == NULL) {
        free(buffer);
        return SP_ENOMEM;
    }
    *ch = (sp_chan_state){ .lock = 1, .elem_size = elem_size, .capacity = capacity, .buffer = buffer };
    chan_unlock(ch);
    *out = ch;
    return SP_OK;
}

int sp_chan_state_free(sp_chan_state *ch)
{
    if (ch == NULL)
        return SP_EINVAL;
    chan_lock(ch);
    free(ch->buffer);
    ch->buffer = NULL;
    ch->handle = 0;
    ch->flags = SP_CHAN_RELEASED;
    chan_unlock(ch);
    sp_state_pool_give(&states, ch, sizeof *ch);
    return SP_OK;
}

/* ---- publishing by handle ------------------------------------------------ */

sp_mirror sp_chan_handles;

int sp_chan_publish(uint64_t handle, sp_chan_state *ch)
{
    if (handle == 0 || ch == NULL)
        return SP_EINVAL;
    ch->handle = handle;
    return sp_mirror_publish(&sp_chan_handles, handle, ch);
}

void sp_chan_unpublish(uint64_t handle) { sp_mirror_unpublish(&sp_chan_handles, handle); }

/* ---- the native waiter queues (under the channel's lock) ------------------ */

void sp_chan_enqueue(sp_chan_state *ch, sp_chan_waiter *w)
{
    sp_chan_waiter **first = w->is_send ? &ch->send_first : &ch->recv_first;
    sp_chan_waiter **last = w->is_send ? &ch->send_last : &ch->recv_last;
    w->chan = ch;
    w->next = NULL;
    w->prev = *last;
    if (*last != NULL)
        (*last)->next = w;
    else
        *first = w;
    *last = w;
}

void sp_chan_remove_waiter(sp_chan_waiter *w)
{
    sp_chan_state *ch = w != NULL ? w->chan : NULL;
    if (ch == NULL)
        return;
    sp_chan_waiter **first = w->is_send ? &ch->send_first : &ch->recv_first;
    sp_chan_waiter **last = w->is_send ? &ch->send_last : &ch->recv_last;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        *first = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        *last = w->prev;
    w->prev = w->next = NULL;
    w->chan = NULL;
}

sp_chan_waiter *sp_chan_take_waiter(sp_chan_state *ch, bool senders)
{
    if (ch == NULL)
        return NULL;
    sp_chan_waiter *w = senders ? ch->send_first : ch->recv_first;
    if (w != NULL)
        sp_chan_remove_waiter(w);
    return w;
}
