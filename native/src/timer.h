/* Per-processor timer heaps, after Go's runtime/time.go: sleeps and the
   timers of timer and ticker channels, earliest deadline first, run by the
   processor's run loop (and by idle workers). What a timer does when it
   fires is its owner's (fire): complete a sleeping party (park.c), or send
   the time on a channel (chan_timer.c). */
#ifndef SPINDLE_TIMER_H
#define SPINDLE_TIMER_H

#include "park.h"

#include <stdatomic.h>

struct sp_timers;

typedef struct sp_timer sp_timer;
/* Runs under the heap's lock (the timer is out of its heap): returns the
   next deadline of a periodic timer, or 0 when it is done. */
typedef int64_t (*sp_timer_fire)(sp_timer *t, int64_t now, sp_wake_ctx *c);

struct sp_timer {
    int64_t when;             /* sp_clock_now nanoseconds */
    sp_timer_fire fire;
    void *arg;                /* the fire's: a party, a channel */
    struct sp_timers *heap;   /* the heap it is in, NULL when in none */
    int32_t index;            /* its place there */
    int32_t reserved;
};
_Static_assert(sizeof(sp_timer) <= SP_TIMER_BYTES, "host parties give a timer SP_TIMER_BYTES");

/* A processor's timers. Its lock is taken by whoever adds, removes or runs
   them, and timers fire under it, counted as still in the heap while they
   do: once sp_timer_remove has returned, no firing of the timer is under
   way. */
typedef struct sp_timers {
    sp_lock lock;
    int32_t count;
    int32_t room;
    int32_t reserved;
    sp_timer **heap;
    /* The earliest deadline in coarse milliseconds (rounded down), for the
       run loop's look on every switch: a load and a compare. */
    _Atomic int64_t next_ms;
    _Atomic int64_t next_ns;
    struct sp_timers *next_heap; /* the sched's list of heaps */
} sp_timers;

SP_HIDDEN void sp_timers_init(sp_timers *h);
SP_HIDDEN void sp_timers_destroy(sp_timers *h);
/* Adds t, due at when, to h (under h's lock): SP_OK or SP_ENOMEM. */
SP_HIDDEN int sp_timers_add_locked(sp_timers *h, sp_timer *t, int64_t when);
/* Takes t out of its heap, if it is in one (takes that heap's lock). */
SP_HIDDEN void sp_timer_remove(sp_timer *t);
/* Runs h's timers due at now. */
SP_HIDDEN void sp_timers_run(sp_timers *h, int64_t now, sp_wake_ctx *c);
/* Moves every timer of from into to (to NULL: they leave from and never fire). */
SP_HIDDEN void sp_timers_move(sp_timers *from, sp_timers *to);

/* Whether h may have a timer due by the coarse clock now_ms. */
static inline int sp_timers_maybe_due(sp_timers *h, int64_t now_ms)
{
    return atomic_load_explicit(&h->next_ms, memory_order_relaxed) <= now_ms;
}

static inline void sp_timers_lock(sp_timers *h) { sp_lock_acquire(&h->lock); }
static inline void sp_timers_unlock(sp_timers *h) { sp_lock_release(&h->lock); }

/* The coarse clock (sched.c): milliseconds, advanced by sp_clock_tick, read
   inline on every switch. */
extern SP_HIDDEN int64_t sp_clock_word;
static inline int64_t sp_coarse_ms(void) { return __atomic_load_n(&sp_clock_word, __ATOMIC_RELAXED); }

#endif
