/* Pools of native states that are never returned to the system: channel and
   wait group states (chan_native.c, wg_native.c). A goroutine may look one
   up through a stale handle and take its lock (its first word) for a moment
   after it was freed, so a free state's memory must stay a state, and the
   free list's link sits after it, not over its lock. */
#ifndef SPINDLE_STATE_POOL_H
#define SPINDLE_STATE_POOL_H

#include "coro_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* States take whole cache lines, so that a state's lock never shares its
   line with whatever malloc put beside it, which another core may be
   writing. (A wait group that goroutines on two cores finish still passes
   its own line between them: at GOMAXPROCS=2 its lock's exchange is about a
   tenth of a spawn-and-finish, before and after.) */
#define SP_STATE_LINE 64
#define SP_STATE_BLOCK 4096

typedef struct sp_state_pool {
    sp_lock lock;
    void *head;
    char *carve_next, *carve_end; /* the rest of the block states are cut from */
} sp_state_pool;

/* The link of a free state of size bytes (a multiple of a pointer's size). */
static inline void **sp_state_pool_link(void *state, size_t size) { return (void **)((char *)state + size); }

/* A state of size bytes whose first word is its sp_lock, returned with that
   lock held: a freed one (a stale lookup may hold its lock for a moment, so
   it is taken, not overwritten), else a new zeroed one. The caller fills it
   in and releases the lock. NULL without memory. */
static inline void *sp_state_pool_take_locked(sp_state_pool *p, size_t size)
{
    size_t cell = (size + sizeof(void *) + SP_STATE_LINE - 1) / SP_STATE_LINE * SP_STATE_LINE;
    sp_lock_acquire(&p->lock);
    void *state = p->head;
    if (state != NULL) {
        p->head = *sp_state_pool_link(state, size);
    } else {
        if (p->carve_next == NULL || (size_t)(p->carve_end - p->carve_next) < cell) {
            /* A zeroed block, line-aligned, cut into cells; never freed. */
            char *block = calloc(1, SP_STATE_BLOCK + SP_STATE_LINE);
            if (block != NULL) {
                p->carve_next = (char *)(((uintptr_t)block + SP_STATE_LINE - 1) & ~(uintptr_t)(SP_STATE_LINE - 1));
                p->carve_end = p->carve_next + SP_STATE_BLOCK;
            }
        }
        if (p->carve_next != NULL && (size_t)(p->carve_end - p->carve_next) >= cell) {
            state = p->carve_next;
            p->carve_next += cell;
            ((sp_lock *)state)->held = 1; /* nobody else knows it yet */
        }
        sp_lock_release(&p->lock);
        return state;
    }
    sp_lock_release(&p->lock);
    sp_lock_acquire((sp_lock *)state);
    return state;
}

/* Fills a state taken with sp_state_pool_take_locked from init, every byte
   but its lock's: the lock is held, and a stale lookup may be spinning on it
   meanwhile (atomic loads and exchanges), so it is never written plainly. */
static inline void sp_state_pool_fill(void *state, const void *init, size_t size)
{
    memcpy((char *)state + sizeof(sp_lock), (const char *)init + sizeof(sp_lock), size - sizeof(sp_lock));
}

static inline void sp_state_pool_give(sp_state_pool *p, void *state, size_t size)
{
    sp_lock_acquire(&p->lock);
    *sp_state_pool_link(state, size) = p->head;
    p->head = state;
    sp_lock_release(&p->lock);
}

#endif
