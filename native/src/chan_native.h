/* Channel state shared by chan_native.c (allocation, handles, queues) and
   chan_fast.c (operations a goroutine completes without the runtime). */
#ifndef SPINDLE_CHAN_NATIVE_H
#define SPINDLE_CHAN_NATIVE_H

#include "handle_mirror.h"

#include <stdatomic.h>

/* Channels published by handle (chan_native.c). */
extern SP_HIDDEN sp_mirror sp_chan_handles;

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
