/* Channel state shared by chan_native.c (allocation, handles, queues) and
   chan_fast.c (operations a goroutine completes without the runtime). */
#ifndef SPINDLE_CHAN_NATIVE_H
#define SPINDLE_CHAN_NATIVE_H

#include "coro_internal.h"

#include <stdatomic.h>

/* The handle mirror: slot (the handle's low 32 bits - 1) -> (handle, state),
   in chunks allocated on first use and read without a lock. */
#define SP_CHAN_MIRROR_CHUNK (1u << 16)
#define SP_CHAN_MIRROR_CHUNKS 1024 /* 64 Mi channels */

typedef struct sp_chan_mirror_entry {
    _Atomic uint64_t handle;
    sp_chan_state *_Atomic state;
} sp_chan_mirror_entry;

extern SP_HIDDEN sp_chan_mirror_entry *_Atomic sp_chan_mirror[SP_CHAN_MIRROR_CHUNKS];

/* The state published under handle, or NULL; lock it and compare its
   handle before trusting it (it may have been released and reused). */
static inline sp_chan_state *sp_chan_lookup(uint64_t handle)
{
    uint32_t slot = (uint32_t)handle - 1;
    if ((uint32_t)handle == 0 || slot / SP_CHAN_MIRROR_CHUNK >= SP_CHAN_MIRROR_CHUNKS)
        return NULL;
    sp_chan_mirror_entry *chunk =
        atomic_load_explicit(&sp_chan_mirror[slot / SP_CHAN_MIRROR_CHUNK], memory_order_acquire);
    if (chunk == NULL)
        return NULL;
    sp_chan_mirror_entry *e = &chunk[slot % SP_CHAN_MIRROR_CHUNK];
    if (atomic_load_explicit(&e->handle, memory_order_acquire) != handle)
        return NULL;
    return atomic_load_explicit(&e->state, memory_order_acquire);
}
/* Queues w (w->is_send says which queue) under ch's lock. */
SP_HIDDEN void sp_chan_enqueue(sp_chan_state *ch, sp_chan_waiter *w);

/* The channel lock: an sp_lock (one int), the same word the managed runtime
   takes with a compare-exchange. */
static inline void chan_lock(sp_chan_state *ch) { sp_lock_acquire((sp_lock *)&ch->lock); }
static inline void chan_unlock(sp_chan_state *ch) { sp_lock_release((sp_lock *)&ch->lock); }

/* sp_chan_send and sp_chan_recv without a runtime call (chan_fast.c): 1 when
   done here, with the call's result in *result; 0 when the runtime must
   serve it (nothing has been changed then). */
SP_HIDDEN int sp_chan_fast_send(uint64_t handle, const void *elem, int *result);
SP_HIDDEN int sp_chan_fast_recv(uint64_t handle, void *elem, bool *ok, int *result);

#endif
