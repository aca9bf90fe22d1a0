/* Wait groups in native memory: the states, their handles, and the two
   operations a goroutine completes without the runtime (goroutine_calls.c
   calls them; the managed runtime parks and wakes). */
#include "wg_native.h"

#include <stdlib.h>

static sp_mirror wg_handles;

typedef struct state_node {
    sp_wg_state state; /* first: a state's address is its node's */
    struct state_node *next_free;
} state_node;

static sp_lock free_lock;
static state_node *free_states;

static void wg_lock(sp_wg_state *wg) { sp_lock_acquire((sp_lock *)&wg->lock); }
static void wg_unlock(sp_wg_state *wg) { sp_lock_release((sp_lock *)&wg->lock); }

int sp_wg_state_make(sp_wg_state **out)
{
    if (out == NULL)
        return SP_EINVAL;
    sp_lock_acquire(&free_lock);
    state_node *node = free_states;
    if (node != NULL)
        free_states = node->next_free;
    sp_lock_release(&free_lock);
    if (node == NULL) {
        node = calloc(1, sizeof *node);
        *out = node != NULL ? &node->state : NULL;
        return node != NULL ? SP_OK : SP_ENOMEM;
    }
    /* A lookup through a stale handle may hold the lock for a moment. */
    wg_lock(&node->state);
    node->state.waiters = 0;
    node->state.count = 0;
    node->state.handle = 0;
    wg_unlock(&node->state);
    *out = &node->state;
    return SP_OK;
}

int sp_wg_state_free(sp_wg_state *wg)
{
    if (wg == NULL)
        return SP_EINVAL;
    wg_lock(wg);
    sp_mirror_unpublish(&wg_handles, wg->handle);
    wg->handle = 0;
    wg_unlock(wg);
    state_node *node = (state_node *)wg;
    sp_lock_acquire(&free_lock);
    node->next_free = free_states;
    free_states = node;
    sp_lock_release(&free_lock);
    return SP_OK;
}

int sp_wg_publish(uint64_t handle, sp_wg_state *wg)
{
    if (handle == 0 || wg == NULL)
        return SP_EINVAL;
    wg->handle = handle;
    return sp_mirror_publish(&wg_handles, handle, wg);
}

/* The state published under handle, locked, or NULL. */
static sp_wg_state *lock_published(uint64_t handle)
{
    sp_wg_state *wg = sp_mirror_lookup(&wg_handles, handle);
    if (wg == NULL)
        return NULL;
    wg_lock(wg);
    if (wg->handle == handle)
        return wg;
    wg_unlock(wg); /* released (and perhaps reused) meanwhile */
    return NULL;
}

int sp_wg_fast_add(uint64_t handle, int delta, int *result)
{
    sp_wg_state *wg = lock_published(handle);
    if (wg == NULL)
        return 0; /* the runtime tells a stale handle */
    int64_t next = wg->count + delta;
    int done = 1;
    if (next < 0)
        *result = SP_EINVAL; /* left as it was */
    else if (next == 0 && wg->waiters > 0)
        done = 0; /* someone to wake: the runtime's */
    else {
        wg->count = next;
        *result = SP_OK;
    }
    wg_unlock(wg);
    return done;
}

int sp_wg_fast_wait(uint64_t handle)
{
    sp_wg_state *wg = lock_published(handle);
    if (wg == NULL)
        return 0;
    int zero = wg->count == 0;
    wg_unlock(wg);
    return zero;
}
