/* The engine's shared internals: objects named by handles, and the states
   of channels, mutexes and wait groups. chan.c, select.c, mutex.c,
   waitgroup.c and chan_timer.c build on it; parties, parking and waking,
   timers and the run loop sit below it (park.h, timer.h, run_queue.h). */
#ifndef SPINDLE_ENGINE_H
#define SPINDLE_ENGINE_H

#include "run_queue.h"

#include <stdatomic.h>

/* ---- objects and handles (handle.c) --------------------------------------- */

/* Every object a handle names starts with this header. Its lock is the first
   word: a stale handle's lookup may take it for a moment after the object
   was released, so released objects stay objects (state pools, never given
   back to the system) and the lookup checks the handle again under the lock. */
typedef struct sp_object {
    sp_lock lock;
    int32_t kind;       /* SP_HANDLE_* */
    uint64_t handle;    /* 0 once released */
    sp_sched *owner;    /* the runtime whose goroutine made it; NULL: C# owns it */
    int32_t outside;    /* named by C#: a thread outside the runtime may use it */
    int32_t reserved;
} sp_object;

/* Handles: (generation << 32) | (kind << 28) | (slot + 1). */
#define SP_HANDLE_SLOT_BITS 28
#define SP_HANDLE_SLOTS ((1u << SP_HANDLE_SLOT_BITS) - 1)

static inline int32_t sp_handle_kind(uint64_t handle) { return (int32_t)((handle >> SP_HANDLE_SLOT_BITS) & 0xf); }

/* Publishes o (its kind set) under a new handle: SP_OK or SP_ENOMEM. */
SP_HIDDEN int sp_handle_add(sp_object *o);
/* Withdraws o's handle (under o's lock); o->handle becomes 0. */
SP_HIDDEN void sp_handle_remove(sp_object *o);
/* The object handle names, locked, or NULL with *err set: SP_EINVAL for a
   handle of another kind (or 0), SP_ESTALE for a released or unknown one. */
SP_HIDDEN sp_object *sp_handle_lock(uint64_t handle, int32_t kind, int *err);
/* The object handle names, unlocked (for lock ordering), or NULL as above. */
SP_HIDDEN sp_object *sp_handle_find(uint64_t handle, int32_t kind, int *err);
/* Calls visit on every live object (runtime stop). */
SP_HIDDEN void sp_handle_each(void (*visit)(sp_object *o, void *arg), void *arg);

static inline void object_lock(sp_object *o) { sp_lock_acquire(&o->lock); }
static inline void object_unlock(sp_object *o) { sp_lock_release(&o->lock); }

/* ---- channels (chan.c) ------------------------------------------------------ */

typedef struct sp_chan_state {
    sp_object obj;
    int32_t elem_size;
    int32_t capacity;
    int32_t head;
    int32_t count;
    int32_t closed;
    int32_t reserved;
    uint8_t *buffer;
    sp_waitq recvq, sendq;
    struct sp_timer *timer; /* a timer or ticker channel's */
} sp_chan_state;

/* Makes a channel owned by owner (NULL: C#); its state is returned, locked,
   in *state when state is not NULL (a timer channel gets its timer so). */
SP_HIDDEN int sp_chan_new(sp_chan *out, int64_t elem_size, int64_t capacity, sp_sched *owner, sp_chan_state **state);
/* A send on ch (locked) that needs no wait: 1 when performed or refused
   (*result: SP_OK or SP_ECLOSED), 0 when it would block. */
SP_HIDDEN int sp_chan_try_send_locked(sp_chan_state *ch, const void *elem, sp_wake_ctx *c, int *result);
/* A receive on ch (locked) that needs no wait: 1 with *ok, 0 when it would
   block. */
SP_HIDDEN int sp_chan_try_recv_locked(sp_chan_state *ch, void *elem, bool *ok, sp_wake_ctx *c);
/* Releases ch (locked): parties waiting get SP_ESTALE, its timer stops, its
   buffer is freed; it is unlocked and back in its pool. */
SP_HIDDEN void sp_chan_release_locked(sp_chan_state *ch, sp_wake_ctx *c);

/* ---- releasing objects (handle.c) ------------------------------------------ */

/* Completes every party waiting in q with result (under its object's lock). */
SP_HIDDEN void sp_waitq_fail_all(sp_waitq *q, int32_t result, sp_wake_ctx *c);
/* Releases a locked object of any kind: parties still waiting get
   SP_ESTALE; the object is unlocked and freed. */
SP_HIDDEN void sp_object_release_locked(sp_object *o, sp_wake_ctx *c);
/* Releases the object handle names for its owner (a runtime, NULL for C#):
   SP_EINVAL when it is someone else's, SP_ESTATE when a runtime's object
   still has parties waiting (C#'s wakes them with SP_ESTALE). */
SP_HIDDEN int sp_object_release(uint64_t handle, int32_t kind, sp_sched *owner, sp_wake_ctx *c);
/* Whether parties wait on o (locked). */
SP_HIDDEN int sp_object_has_waiters(const sp_object *o);


/* ---- mutexes and wait groups (mutex.c, waitgroup.c) ------------------------ */

typedef struct sp_mutex_state {
    sp_object obj;
    int32_t locked;
    int32_t reserved;
    sp_waitq waiters;
} sp_mutex_state;

typedef struct sp_wg_state {
    sp_object obj;
    int64_t count;
    sp_waitq waiters;
} sp_wg_state;

SP_HIDDEN int sp_mutex_new(sp_mutex *out, sp_sched *owner);
SP_HIDDEN int sp_wg_new(sp_wg *out, sp_sched *owner);
SP_HIDDEN void sp_mutex_free(sp_mutex_state *m);
SP_HIDDEN void sp_wg_free(sp_wg_state *wg);

#endif
