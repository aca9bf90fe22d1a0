/*
 * The run loop: a processor's native scheduler between two visits of the
 * managed one.
 *
 * The managed scheduler (src/Spindle/Scheduler.cs) finds a native goroutine
 * to run and calls sp_runq_run. From then on the loop resumes native
 * goroutines from the processor's queue by itself for as long as they do
 * only what libspindle serves: yield, park in a channel, select, lock, wait
 * group or sleep, spawn, finish. It comes back to the managed scheduler when
 * the next goroutine is not its to run (a managed one, one the scheduler
 * holds, none), when managed parties wait to be resolved, when a goroutine
 * asks for the runtime (a request), and when its budget is spent.
 *
 * Direct switches. A goroutine that yields or parks while the next one in
 * the queue also last left through here (leave()) switches straight to it:
 * one switch whose returns the CPU predicts, instead of two through the
 * loop. What the goroutine left to do once its registers are saved (queue
 * itself, release the lock it parked under) is done by the one it switched
 * to, as soon as that one runs. Anything that needs the thread's own stack
 * (timers due, the global queue's turn, wakes for the host) makes the
 * goroutine go back through the loop instead, which runs on that stack.
 *
 * Fairness, as Go's schedule() and sysmon give it:
 *   - runnext hand-offs (a goroutine readied by the one running, which then
 *     runs next on this core: a ping-pong) inherit the time slice; once a
 *     slice is SP_TIME_SLICE_MS old, the runnext goroutine goes to the tail
 *     of the ring and the ring's head runs, so two goroutines trading values
 *     never starve the rest of the queue;
 *   - every 61st schedule takes a goroutine from the global queue first;
 *   - the processor's timers are looked at on every switch (a load and a
 *     compare against the coarse clock) and run when due.
 *
 * The handshake with the monitor. The status word says IN_GOROUTINE for as
 * long as the loop keeps switching, and the monitor may take the P (CAS to
 * another state) at any moment. Between two goroutines the loop works on the
 * queue, which it may do only while it holds the P; a locked instruction to
 * check that on every switch would cost as much as the rest of the switch.
 * So the loop raises busy with a plain store, then reads the status word
 * with a plain load: the monitor, after its CAS, issues a process-wide
 * memory barrier (membarrier) and waits until busy is down. Either the loop
 * sees the new status and leaves the queue alone, or the monitor sees busy
 * and waits until the loop has finished with the queue. (The same asymmetric
 * fence serves garbage collectors that suspend threads.) The engine's
 * operations inside the loop hold the same flag while they ready goroutines
 * into the queue (sp_run_begin_work).
 *
 * Tracing (trace.h). A goroutine's leave() is compiled twice, with and
 * without the tracer's stamps, and picks one with a single test of the
 * tracer's word: with no trace running a direct switch pays that one branch.
 * The loop reads the word once per call of sp_runq_run.
 */
#include "run_queue.h"
#include "segment.h"
#include "trace.h"

#include <stdlib.h>

/* ASan pairs each coroutine with its resumer in its fiber annotations, so
   goroutines there always go back through the loop. */
#if defined(SPINDLE_ASAN)
#  define DIRECT_SWITCHES 0
#else
#  define DIRECT_SWITCHES 1
#endif

/* Schedules between two looks at the global queue first (Go's 61). */
#define GLOBAL_QUEUE_TURN 61

SP_THREAD_LOCAL sp_run_ctx *sp_tls_run;
#if DIRECT_SWITCHES
/* What a goroutine that switched directly to the one now running left to do
   once its registers are saved, which is when the one it switched to runs
   (leave, after the switch): queue it (it yielded), or release what it
   parked under. */
static SP_THREAD_LOCAL sp_g *tls_switched_from;
static SP_THREAD_LOCAL sp_unlock_fn tls_unlock_fn;
static SP_THREAD_LOCAL void *tls_unlock_arg;
#endif

/* Whether g came back from its resume only to let others run. */
static inline int only_yielded(const sp_g *g, int rc)
{
    if (rc == SP_CORO_SUSPENDED)
        return 1;
    return rc == SP_CORO_REQUEST && g->coro->request->op == SP_OP_GOSCHED;
}

static inline void count_switch(sp_run_ctx *c, sp_g *next)
{
    next->state = SP_G_RUNNING;
    c->current = next;
    c->current_coro = next->coro;
    c->switches++;
    /* Only this thread writes the count: no locked add. */
    atomic_store_explicit(&c->q->switches,
                          atomic_load_explicit(&c->q->switches, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline int ring_has_room(sp_runq *q)
{
    return atomic_load_explicit(&q->tail, memory_order_relaxed) - runq_head(q) < SP_RUNQ_CAPACITY;
}

/* Ends a time slice that runnext hand-offs kept going too long: the runnext
   goroutine goes behind the ring's (inside queue work). */
static inline void end_stale_slice(sp_runq *q, int64_t now_ms)
{
    if (now_ms - q->slice_start_ms < SP_TIME_SLICE_MS)
        return;
    q->slice_start_ms = now_ms;
    sp_g *next = atomic_load_explicit(&q->next, memory_order_relaxed);
    if (next == NULL || !ring_has_room(q) ||
        !atomic_compare_exchange_strong_explicit(&q->next, &next, NULL, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return;
    runq_push_tail(q, next); /* room checked; only the owner pushes */
}

/* The next goroutine the loop may resume itself, or NULL when the next one
   is the scheduler's (inside queue work). One from the ring starts a new
   time slice. */
static sp_g *pick_next(sp_run_ctx *c, int direct)
{
    sp_runq *q = c->q;
    end_stale_slice(q, sp_coarse_ms());
    int from_next = atomic_load_explicit(&q->next, memory_order_relaxed) != NULL;
    sp_g *g = runq_take(q, 1, direct);
    if (g != NULL) {
        q->global_turn_in--;
        if (!from_next)
            q->slice_start_ms = sp_coarse_ms();
    }
    return g;
}

/* Whether the loop, on the thread's own stack, has work before the next
   goroutine: timers due, the global queue's turn, wakes for the host. */
static inline int loop_has_work(const sp_run_ctx *c)
{
    sp_runq *q = c->q;
    return sp_timers_maybe_due(&q->timers, sp_coarse_ms()) || q->wakes != NULL ||
           (q->global_turn_in <= 0 && sp_sched_global_count(q->sched) > 0);
}

/* Runs on the thread's own stack: a runnext put whose displaced goroutine
   finds the ring full spills half of it to the global queue. */
static void ready_with_spill(void *g) { sp_sched_put_spill(sp_tls_run->q, g, 1); }

void sp_run_ready(sp_g *g)
{
    sp_run_ctx *c = sp_tls_run;
    sp_runq *q = c->q;
    g->state = SP_G_RUNNABLE;
    if (atomic_load_explicit(&q->next, memory_order_relaxed) == NULL || ring_has_room(q))
        sp_runq_put(q, g, true);
    else
        sp_systemstack(ready_with_spill, g); /* half a ring is more than a segment's reserve */
}

#if DIRECT_SWITCHES
/* Runs in a goroutine just resumed by a direct switch: what the one that
   switched to it left to do. The goroutine may now run on another thread
   than the one it left from, and compilers take the thread pointer for a
   constant within a function (AArch64 keeps it in a register across calls),
   so the thread-locals are read here, in a function of their own that is
   never inlined. */
static SP_NOINLINE void finish_direct_switch(void)
{
    sp_g *from = tls_switched_from;
    sp_unlock_fn fn = tls_unlock_fn;
    if (from == NULL && fn == NULL)
        return;
    sp_run_ctx *here = sp_tls_run;
    void *what = tls_unlock_arg;
    tls_switched_from = NULL;
    tls_unlock_fn = NULL;
    if (from != NULL) {
        from->state = SP_G_RUNNABLE;
        runq_push_tail(here->q, from); /* room was checked before the switch */
    } else {
        fn(what);
    }
    sp_run_queue_work_end(here);
}
#endif

/* g, the running goroutine, gives up the CPU: it yielded (parking 0: it goes
   back to the queue) or parks (it stays out; unlock(arg) runs once it is
   switched out). Switches straight to the next goroutine when that one also
   left through here; else goes back through the loop. Returns g's answer
   when it runs again. traced: with the tracer's stamps (a constant: leave()
   below instantiates both). */
static inline __attribute__((always_inline)) int leave_as(sp_run_ctx *c, sp_g *g, int parking, sp_unlock_fn unlock,
                                                          void *arg, const int traced)
{
    sp_coro *co = g->coro;
    int got;
    runq_g_store(g->flags, g->flags | SP_G_IN_LOOP);
    if (traced)
        sp_trace_leave(g->id, parking ? SP_TRACE_PARKED : SP_TRACE_YIELD, parking ? g->wait_reason : 0);
#if DIRECT_SWITCHES
    if (c->switches < c->budget) {
        if (sp_run_queue_work_begin(c) && !loop_has_work(c) && (parking || ring_has_room(c->q))) {
            sp_g *next = pick_next(c, 1);
            if (next != NULL) {
                count_switch(c, next);
                tls_switched_from = parking ? NULL : g; /* queued by next */
                tls_unlock_fn = unlock;                 /* released by next */
                tls_unlock_arg = arg;
                if (traced)
                    sp_trace_resuming(next->id, 1);
                got = sp_coro_transfer(co, next->coro);
                goto resumed;
            }
        }
        sp_run_queue_work_end(c);
    }
#endif
    c->parked = parking;
    c->park_unlock = unlock;
    c->park_arg = arg;
    if (traced)
        sp_trace_to_loop();
    got = sp_coro_suspend(co);
#if DIRECT_SWITCHES
resumed:
#endif
    runq_g_store(g->flags, g->flags & ~SP_G_IN_LOOP);
    if (traced)
        sp_trace_landed(); /* out of line: it reads the thread-locals afresh */
#if DIRECT_SWITCHES
    finish_direct_switch();
#endif
    return got;
}

/* The traced leave out of line: inlined beside the untraced one, its registers
   were saved and restored on every switch, traced or not. */
static SP_NOINLINE int leave_traced(sp_run_ctx *c, sp_g *g, int parking, sp_unlock_fn unlock, void *arg)
{
    return leave_as(c, g, parking, unlock, arg, 1);
}

static int leave(sp_run_ctx *c, sp_g *g, int parking, sp_unlock_fn unlock, void *arg)
{
    if (sp_tracing())
        return leave_traced(c, g, parking, unlock, arg);
    return leave_as(c, g, parking, unlock, arg, 0);
}

int sp_run_yield(int *answer)
{
    sp_run_ctx *c = sp_tls_run;
    if (c == NULL || !c->may_switch || c->current_coro != sp_current())
        return 0;
    *answer = leave(c, c->current, 0, NULL, NULL);
    return 1;
}

int sp_run_park(sp_unlock_fn unlock, void *arg)
{
    sp_run_ctx *c = sp_tls_run;
    if (c == NULL || !c->may_switch || c->current_coro != sp_current())
        return 0;
    sp_g *g = c->current;
#if SP_HAVE_SEGMENTS
    /* As sp_coro_request does: a parked goroutine holds about 2 KiB, and an
       overrun of the reserve is reported now. */
    if (g->coro->kind == SP_STACK_SEGMENTED)
        sp_segment_drop_large_cache(g->coro);
#endif
    leave(c, g, 1, unlock, arg);
    return 1;
}

/* Ends a call of sp_runq_run with g (or NULL) and status. Unless the loop
   already saw the P taken (lost), the status word goes back from entered to
   owned, which fails if it was taken meanwhile; the busy flag drops only then,
   so the monitor waits for a loop that was still working on the queue. */
static int finish(sp_run_ctx *c, sp_run_result *out, sp_g *g, int32_t status, int lost)
{
    sp_party *wakes = NULL;
    if (sp_tracing())
        sp_trace_decided();
    if (!lost) {
        int64_t seen = c->entered;
        int64_t owned = (c->entered & ~(int64_t)0xff) | SP_P_OWNED;
        lost = !atomic_compare_exchange_strong_explicit(&c->q->status, &seen, owned,
                                                        memory_order_acq_rel, memory_order_acquire);
    }
    if (!lost) { /* the wakes are the P's, and so now the caller's */
        wakes = c->q->wakes;
        c->q->wakes = NULL;
    }
    sp_run_queue_work_end(c);
    sp_tls_run = NULL;
    *out = (sp_run_result){ .g = g, .status = status, .lost = lost, .switches = c->switches, .wakes = wakes };
    return SP_OK;
}

/* sp_go inside the loop, run on the thread's own stack (sp_systemstack): a
   new record, possibly a chunk of them or a spill of half the ring, is more
   than the reserve below a goroutine's stack segment holds. */
typedef struct spawn_call {
    sp_run_ctx *c;
    sp_fn fn;
    void *arg;
    int handled;
    int result;
} spawn_call;

static void spawn_on_system_stack(void *arg)
{
    spawn_call *call = arg;
    sp_run_ctx *c = call->c;
    sp_runq *q = c->q;
    if (!sp_run_queue_work_begin(c)) {
        sp_run_queue_work_end(c); /* the P was taken: the runtime serves it */
        return;
    }
    sp_g *g = sp_sched_take_g(q);
    if (g != NULL) {
        call->handled = 1;
        call->result = sp_sched_init_g_on(q, g, call->fn, call->arg);
        if (call->result == SP_OK && sp_tracing())
            sp_trace_event(SP_TRACE_CREATE, g->id, c->current->id, 0, 0);
        if (call->result == SP_OK)
            sp_sched_put_spill(q, g, 1); /* runnext, as Go's newproc */
        else
            sp_sched_give_g(q, g);
    }
    sp_run_queue_work_end(c);
}

int sp_run_spawn(sp_fn fn, void *arg, int *result)
{
    sp_run_ctx *c = sp_tls_run;
    if (c == NULL || !c->may_switch || c->current_coro != sp_current())
        return 0;
    spawn_call call = { .c = c, .fn = fn, .arg = arg };
    sp_systemstack(spawn_on_system_stack, &call);
    *result = call.result;
    return call.handled;
}

/* On the thread's own stack, inside queue work: the processor's due timers
   and its turn at the global queue. */
static void serve_processor(sp_run_ctx *c)
{
    sp_runq *q = c->q;
    if (sp_timers_maybe_due(&q->timers, sp_coarse_ms())) {
        sp_wake_ctx w = { .q = q, .sched = q->sched, .in_loop = 1 };
        sp_timers_run(&q->timers, sp_clock_now(), &w);
        /* Managed parties a timer completed join the P's list for the host. */
        while (w.managed != NULL) {
            sp_party *p = w.managed;
            w.managed = p->next_woken;
            p->next_woken = q->wakes;
            q->wakes = p;
        }
    }
    if (q->global_turn_in <= 0) {
        q->global_turn_in = GLOBAL_QUEUE_TURN;
        /* The oldest global goroutine runs next, ahead of runnext's, which
           goes behind the ring's (the host runs it if the loop may not). */
        sp_g *g = sp_sched_global_count(q->sched) > 0 ? sp_sched_global_pop(q->sched) : NULL;
        if (g != NULL) {
            q->slice_start_ms = sp_coarse_ms();
            sp_runq_put_spill(q, q->sched, g, true);
        }
    }
}

/* Tells the tracer g came back from its resume with rc, and why it left. */
static void trace_back(const sp_run_ctx *c, sp_g *g, int rc)
{
    int32_t why = SP_TRACE_STOPPED;
    if (rc == SP_CORO_DONE)
        why = SP_TRACE_EXITED;
    else if (c->parked || c->park_unlock != NULL || g->state == SP_G_WAITING)
        why = SP_TRACE_PARKED;
    else if (only_yielded(g, rc))
        why = SP_TRACE_YIELD;
    else if (rc == SP_CORO_REQUEST)
        why = SP_TRACE_CALL;
    sp_trace_back_in_loop(g->id, why, why == SP_TRACE_PARKED ? g->wait_reason : 0);
}

void sp_trace_unblock(sp_g *g)
{
    sp_g *waker = sp_run_current(NULL, NULL);
    sp_trace_event(SP_TRACE_UNBLOCK, g->id, waker != NULL ? waker->id : 0, 0, 0);
}

int sp_runq_run(sp_runq *q, sp_g *g, int64_t entered, int32_t budget, sp_run_result *out)
{
    if (q == NULL || g == NULL || out == NULL || q->sched == NULL || (g->coro == NULL && !runq_fresh(g)))
        return SP_EINVAL;
    sp_run_ctx c = { .q = q, .current = g, .current_coro = g->coro, .entered = entered, .budget = budget };
    c.may_switch = (entered & 0xff) == SP_P_IN_GOROUTINE && budget > 0;
    sp_tls_run = &c;
    if (c.may_switch && q->slice_start_ms == 0)
        q->slice_start_ms = sp_coarse_ms();
    const int traced = sp_tracing();
    if (traced)
        sp_trace_loop_entered();
    for (;;) {
        if (g->coro == NULL) {
            /* First run: its stack comes from the cache the last finished
               goroutine went back to. */
            int err = sp_sched_start_g(q->sched, g);
            if (err != SP_OK)
                return finish(&c, out, g, err, 0);
            c.current_coro = g->coro;
        }
        if (traced)
            sp_trace_resuming(g->id, 0);
        int rc = sp_coro_resume(g->coro);
        g = c.current; /* direct switches may have changed who came back */
        if (traced)
            trace_back(&c, g, rc);
        sp_g *next = NULL;
        if (rc == SP_CORO_DONE && c.may_switch && !(g->flags & SP_G_EXIT_TO_SCHEDULER)) {
            /* Finished: its record goes to the P's free list (Go's goexit0
               and gfput), and its stack to the next goroutine when that one
               is fresh, else back to this thread's cache. */
            if (!sp_run_queue_work_begin(&c))
                return finish(&c, out, g, rc, 1);
            sp_coro *finished = g->coro;
            sp_sched_give_g(q, g);
            serve_processor(&c);
            next = c.switches < budget && q->wakes == NULL ? pick_next(&c, 0) : NULL;
            if (next == NULL || !sp_sched_start_g_on(next, finished))
                sp_coro_destroy(finished);
            if (next == NULL)
                return finish(&c, out, NULL, SP_RUN_EXITED, 0);
        } else if (c.park_unlock != NULL || c.parked) {
            /* g parked and is switched out: what it parked under may go. It
               waits where it parked, not in the run queue. */
            if (c.park_unlock != NULL)
                c.park_unlock(c.park_arg);
            c.park_unlock = NULL;
            c.parked = 0;
            if (!sp_run_queue_work_begin(&c))
                return finish(&c, out, NULL, SP_RUN_PARKED, 1);
            serve_processor(&c);
            next = c.switches < budget && q->wakes == NULL ? pick_next(&c, 0) : NULL;
            if (next == NULL)
                return finish(&c, out, NULL, SP_RUN_PARKED, 0);
        } else {
            if (!c.may_switch || c.switches >= budget || !only_yielded(g, rc))
                return finish(&c, out, g, rc, 0);
            if (!sp_run_queue_work_begin(&c))
                return finish(&c, out, g, rc, 1);
            if (rc == SP_CORO_REQUEST)
                g->coro->request->result = SP_OK;
            g->state = SP_G_RUNNABLE;
            if (!runq_push_tail(q, g)) {
                g->state = SP_G_RUNNING; /* the ring is full: the scheduler spills it */
                return finish(&c, out, g, rc, 0);
            }
            serve_processor(&c);
            next = q->wakes == NULL ? pick_next(&c, 0) : NULL;
            if (next == NULL) /* g is queued; the next one is the scheduler's to run */
                return finish(&c, out, NULL, SP_RUN_REQUEUED, 0);
        }
        count_switch(&c, next);
        sp_run_queue_work_end(&c);
        g = next;
    }
}
