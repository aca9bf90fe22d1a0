/* Wait groups in native memory: the states, their handles, and the two
   operations a goroutine completes without the runtime (goroutine_calls.c
   calls them; the managed runtime parks and wakes). */
#include "wg_native.h"
#include "state_pool.h"

#include <stddef.h>

static sp_mirror wg_handles;

_Static_assert(sizeof(sp_wg_state) % sizeof(void *) == 0, "a pool link after the state");
_Static_assert(offsetof(sp_wg_state, lock) == 0, "the pool takes the lock, the first word");
static sp_state_pool states; /* never returned to the system (state_pool.h) */

static void wg_lock(sp_wg_state *wg) { sp_lock_acquire((sp_lock *)&wg->lock); }
static void wg_unlock(sp_wg_state *wg) { sp_lock_release((sp_lock *)&wg->lock); }

int sp_wg_state_make(sp_wg_state **out)
{
    if (out == NULL)
        return SP_EINVAL;
    sp_wg_state *wg = sp_state_pool_take_locked(&states, sizeof *wg);
    *out = wg;
    if (wg == NULL)
        return SP_ENOMEM;
    *wg = (sp_wg_state){ .lock = 1 };
    wg_unlock(wg);
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
    sp_state_pool_give(&states, wg, sizeof *wg);
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
    return sp_mirror_lock_published(&wg_handles, handle, offsetof(sp_wg_state, handle));
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
