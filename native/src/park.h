/* Parking and waking, after Go's gopark/goready and sudog: wait queues of
   waiters, claiming a party, and where a completed party goes (a goroutine
   into a run queue, a managed party to the host, a thread to its wake
   word). The engine (channels, select, mutexes, wait groups, timer
   channels) queues parties and completes them through this; the run loop
   (run_loop.c) switches parked goroutines out. */
#ifndef SPINDLE_PARK_H
#define SPINDLE_PARK_H

#include "coro_internal.h"
#include "spindle_host.h"

/* A FIFO of waiters, changed only under the lock of the object it is in
   (lock: that object's, set when the object is made). */
typedef struct sp_waitq {
    sp_waiter *first, *last;
    sp_lock *lock;
} sp_waitq;

SP_HIDDEN void sp_waitq_push(sp_waitq *q, sp_waiter *w);
/* Takes w out of its queue, if it is in one. */
SP_HIDDEN void sp_waitq_remove(sp_waiter *w);
static inline int sp_waitq_empty(const sp_waitq *q) { return q->first == NULL; }

/* Claims p for its completer or canceller: 1 for exactly one caller. A
   goroutine's single operation has no one to race with (nothing cancels it,
   and the runtime discards it only once every worker stopped). */
static inline int sp_party_claim(sp_party *p)
{
    if (p->kind == SP_PARTY_GOROUTINE && p->ncases <= 1) {
        p->claimed = 1;
        return 1;
    }
    int32_t expected = 0;
    return __atomic_compare_exchange_n(&p->claimed, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Readies a host party (prepared once with sp_party_init) for the operation
   about to queue it: what a completer or a canceller writes starts afresh,
   so the host needs no call of its own before each operation. */
static inline void sp_party_arm(sp_party *p)
{
    if (p->kind == SP_PARTY_GOROUTINE)
        return; /* made afresh for each operation (sp_party_of) */
    p->claimed = 0;
    p->chosen = -1;
    p->result = SP_OK;
    p->ok = 0;
    p->wake = 0;
    p->outside = 0;
    p->timer = NULL;
    p->next_woken = NULL;
}

/* Takes the first waiter of q whose party it can claim out of q, records its
   case as chosen, and returns it; NULL when none is left. Waiters of parties
   completed or cancelled elsewhere (a select another case won) are dropped
   on the way, as Go's dequeue does. */
SP_HIDDEN sp_waiter *sp_waitq_take(sp_waitq *q);

/* Where an operation's completions go. Parties completed under an object's
   lock wait in pending until it is released (sp_wake_flush): a goroutine is
   readied (into q's runnext when the caller holds q's P, else the global
   queue of its sched), a managed party joins managed for the host, a
   thread's wake word is set. */
typedef struct sp_wake_ctx {
    sp_runq *q;          /* the P the caller holds and may push to, or NULL */
    sp_sched *sched;     /* the caller's runtime, when it is a goroutine's */
    int32_t in_loop;     /* q's run loop is running the caller */
    int32_t readied;     /* goroutines readied */
    sp_party *pending;
    sp_party *managed;
} sp_wake_ctx;

/* Completes p (claimed) with result; it is woken by sp_wake_flush. */
static inline void sp_wake_later(sp_wake_ctx *c, sp_party *p, int32_t result)
{
    p->result = result;
    p->next_woken = c->pending;
    c->pending = p;
}

/* Wakes what sp_wake_later recorded; no object lock may be held. */
SP_HIDDEN void sp_wake_flush(sp_wake_ctx *c);


/* A host call's context (here: the caller's P, or NULL), and its end: what
   it woke goes to out. */
static inline sp_wake_ctx sp_wake_ctx_host(sp_runq *here) { return (sp_wake_ctx){ .q = here }; }
SP_HIDDEN void sp_wake_ctx_host_end(sp_wake_ctx *c, sp_wakes *out);



/* Releases the locks a party was queued under, once its goroutine is
   switched out (sp_park's unlock): one object (arg is it) or a select's
   set (select.c). */
typedef void (*sp_unlock_fn)(void *arg);
SP_HIDDEN void sp_unlock_one(void *object);

/* Parks the calling goroutine, whose party p (sp_party_of_goroutine) is
   queued under locks that unlock(arg) releases once it is switched out;
   returns once it has been completed and resumed. outside counts it, while
   it waits, as a wait a thread outside the runtime may end. */
SP_HIDDEN void sp_park(sp_party *p, sp_unlock_fn unlock, void *arg, int32_t reason, int outside);

#endif
