/* The native tests' scheduler (harness.h). */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(_WIN32)
#  include <windows.h>
#else
#  include <pthread.h>
#endif

/* ---- threads ------------------------------------------------------------------ */

struct harness_thread {
    void (*fn)(void *);
    void *arg;
#if defined(_WIN32)
    HANDLE handle;
#else
    pthread_t handle;
#endif
};

#if defined(_WIN32)
static DWORD WINAPI thread_main(void *p)
{
    harness_thread *t = p;
    t->fn(t->arg);
    return 0;
}
#else
static void *thread_main(void *p)
{
    harness_thread *t = p;
    t->fn(t->arg);
    return NULL;
}
#endif

harness_thread *harness_start(void (*fn)(void *), void *arg)
{
    harness_thread *t = calloc(1, sizeof *t);
    t->fn = fn;
    t->arg = arg;
#if defined(_WIN32)
    t->handle = CreateThread(NULL, 0, thread_main, t, 0, NULL);
#else
    pthread_create(&t->handle, NULL, thread_main, t);
#endif
    return t;
}

void harness_join(harness_thread *t)
{
#if defined(_WIN32)
    WaitForSingleObject(t->handle, INFINITE);
    CloseHandle(t->handle);
#else
    pthread_join(t->handle, NULL);
#endif
    free(t);
}

void harness_nap(int64_t ns)
{
#if defined(_WIN32)
    Sleep((DWORD)(ns / 1000000 > 0 ? ns / 1000000 : 0));
#else
    struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
    nanosleep(&ts, NULL);
#endif
}

/* ---- the scheduler --------------------------------------------------------------- */

typedef struct proc {
    sp_runq *q;
    int64_t generation;
    int index;
} proc;

static struct {
    sp_sched *s;
    proc *procs;
    int n;
    _Atomic int done;
    _Atomic int failed;
} h;

static void fail(const char *what, long long value)
{
    fprintf(stderr, "harness: %s (%lld)\n", what, value);
    atomic_store(&h.failed, 1);
    atomic_store(&h.done, 1);
}

static sp_g *find_work(proc *p)
{
    sp_g *g = sp_runq_get(p->q);
    if (g == NULL)
        g = sp_sched_global_take(h.s, p->q, h.n);
    for (int i = 1; g == NULL && i < h.n; i++)
        g = sp_runq_steal_from(p->q, h.procs[(p->index + i) % h.n].q, true);
    if (g != NULL)
        return g;
    /* Idle: every processor's timers, readied goroutines to this one. */
    for (int i = 0; i < h.n; i++) {
        sp_wakes w = { 0 };
        sp_host_run_timers(h.procs[i].q, p->q, &w);
        if (w.managed != NULL)
            fail("a timer completed a managed party", 0);
    }
    return sp_runq_get(p->q);
}

/* Runs g until the loop has no more for this worker to do with it. */
static void run(proc *p, sp_g *g)
{
    for (;;) {
        int blocking = (g->hold & SP_HOLD_BLOCKING) != 0;
        int64_t entered = (p->generation << 8) | (blocking ? SP_P_IN_BLOCKING : SP_P_IN_GOROUTINE);
        *sp_runq_status(p->q) = entered;
        sp_run_result r;
        int err = sp_runq_run(p->q, g, entered, 1000, &r);
        if (err != SP_OK) {
            fail("sp_runq_run refused a goroutine", err);
            return;
        }
        if (r.lost || r.wakes != NULL) {
            fail("a lost processor or managed wakes, which this harness never makes", r.lost);
            return;
        }
        if (r.status == SP_RUN_REQUEUED || r.status == SP_RUN_PARKED || r.status == SP_RUN_EXITED)
            return;
        g = r.g;
        if (r.status == SP_CORO_DONE) { /* the main goroutine */
            sp_coro_destroy(g->coro);
            sp_sched_free_g(h.s, p->q, g);
            atomic_store(&h.done, 1);
            return;
        }
        if (r.status == SP_CORO_SUSPENDED) {
            sp_runq_put_spill(p->q, h.s, g, false);
            return;
        }
        if (r.status != SP_CORO_REQUEST) {
            fail("resuming a goroutine failed", r.status);
            return;
        }
        sp_request *req = sp_coro_pending(g->coro);
        req->result = SP_OK;
        switch (req->op) {
        case SP_OP_GO: {
            sp_g *n = sp_sched_new_g(h.s, p->q);
            req->result = n == NULL ? SP_ENOMEM
                                    : sp_g_init_native(h.s, n, (sp_fn)(uintptr_t)req->args[0], (void *)(uintptr_t)req->args[1]);
            if (req->result == SP_OK)
                sp_runq_put_spill(p->q, h.s, n, true);
            else if (n != NULL)
                sp_sched_free_g(h.s, p->q, n);
            break;
        }
        case SP_OP_GOSCHED:
            sp_runq_put_spill(p->q, h.s, g, false);
            return;
        /* The owner of a queue g was stolen from may still look at its hold
           (runq_resumable): a relaxed atomic store, as libspindle's. */
        case SP_OP_BLOCK_ENTER:
            if (blocking)
                req->result = SP_ESTATE;
            __atomic_store_n(&g->hold, g->hold | SP_HOLD_BLOCKING, __ATOMIC_RELAXED);
            break;
        case SP_OP_BLOCK_EXIT:
            if (!blocking)
                req->result = SP_ESTATE;
            __atomic_store_n(&g->hold, g->hold & ~SP_HOLD_BLOCKING, __ATOMIC_RELAXED);
            break;
        case SP_OP_PARK:
            sp_host_commit_park(g, req);
            return;
        default: /* SP_OP_CALL: no callbacks here */
            req->result = SP_EINVAL;
            break;
        }
    }
}

static void worker(void *arg)
{
    proc *p = arg;
    int idle = 0;
    while (!atomic_load(&h.done)) {
        sp_g *g = find_work(p);
        if (g == NULL) {
            harness_nap(idle++ < 100 ? 20000 : 200000);
            continue;
        }
        idle = 0;
        p->generation++;
        run(p, g);
    }
}

static void ticker(void *unused)
{
    (void)unused;
    while (!atomic_load(&h.done)) {
        sp_clock_tick();
        harness_nap(1000000);
    }
}

int harness_run(sp_fn main_fn, void *arg, int procs)
{
    memset(&h, 0, sizeof h);
    if (sp_sched_create(&h.s, SP_STACK_DEFAULT, 0) != SP_OK)
        return -1;
    h.n = procs;
    h.procs = calloc((size_t)procs, sizeof *h.procs);
    for (int i = 0; i < procs; i++) {
        h.procs[i].index = i;
        sp_runq_create(&h.procs[i].q);
        sp_runq_attach(h.procs[i].q, h.s);
    }
    sp_clock_tick();
    sp_g *main_g = sp_sched_new_g(h.s, NULL);
    if (sp_g_init_native(h.s, main_g, main_fn, arg) != SP_OK)
        return -1;
    main_g->flags |= SP_G_EXIT_TO_SCHEDULER;
    sp_sched_global_push(h.s, main_g);
    harness_thread *tick = harness_start(ticker, NULL);
    harness_thread **threads = calloc((size_t)procs, sizeof *threads);
    for (int i = 0; i < procs; i++)
        threads[i] = harness_start(worker, &h.procs[i]);
    for (int i = 0; i < procs; i++)
        harness_join(threads[i]);
    harness_join(tick);
    free(threads);
    /* As a Go program's exit: goroutines still parked are discarded, and
       what the runtime's goroutines made is released. */
    for (int64_t slot = sp_sched_next_live(h.s, 0); slot >= 0; slot = sp_sched_next_live(h.s, slot + 1)) {
        sp_g *g = sp_sched_record(h.s, slot);
        sp_host_discard(g);
        if (g->coro != NULL)
            sp_coro_destroy(g->coro);
        sp_sched_free_g(h.s, NULL, g);
    }
    sp_wakes w = { 0 };
    sp_sched_release_objects(h.s, &w);
    for (int i = 0; i < procs; i++) {
        sp_sched_drain_free(h.s, h.procs[i].q);
        sp_runq_destroy(h.procs[i].q);
    }
    sp_sched_destroy(h.s);
    free(h.procs);
    return atomic_load(&h.failed) ? -1 : 0;
}
