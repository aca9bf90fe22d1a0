/* Pools of native states that are never returned to the system: channel and
   wait group states (chan_native.c, wg_native.c). A goroutine may look one
   up through a stale handle and take its lock (its first word) for a moment
   after it was freed, so a free state's memory must stay a state, and the
   free list's link sits after it, not over its lock. */
#ifndef SPINDLE_STATE_POOL_H
#define SPINDLE_STATE_POOL_H

#include "coro_internal.h"

#include <stdlib.h>

typedef struct sp_state_pool {
    sp_lock lock;
    void *head;
} sp_state_pool;

/* The link of a free state of size bytes (a multiple of a pointer's size). */
static inline void **sp_state_pool_link(void *state, size_t size) { return (void **)((char *)state + size); }

/* A state of size bytes whose first word is its sp_lock, returned with that
   lock held: a freed one (a stale lookup may hold its lock for a moment, so
   it is taken, not overwritten), else a new zeroed one. The caller fills it
   in and releases the lock. NULL without memory. */
static inline void *sp_state_pool_take_locked(sp_state_pool *p, size_t size)
{
    sp_lock_acquire(&p->lock);
    void *state = p->head;
    if (state != NULL)
        p->head = *sp_state_pool_link(state, size);
    sp_lock_release(&p->lock);
    if (state != NULL) {
        sp_lock_acquire((sp_lock *)state);
        return state;
    }
    state = calloc(1, size + sizeof(void *));
    if (state != NULL)
        ((sp_lock *)state)->held = 1; /* nobody else knows it yet */
    return state;
}

static inline void sp_state_pool_give(sp_state_pool *p, void *state, size_t size)
{
    sp_lock_acquire(&p->lock);
    *sp_state_pool_link(state, size) = p->head;
    p->head = state;
    sp_lock_release(&p->lock);
}

#endif
