/* Native goroutine programs the managed tests run (tests/Spindle.Tests). Each takes
   an int64_t array from the test: inputs first, results after, as described above
   each program. */
#define _POSIX_C_SOURCE 200809L
#include "goroutine_program.h"
#include "park_workload.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- many goroutines: io[0] count, io[1] yields each; io[2] finished; io[3] errors;
        io[4 ...] one run counter per goroutine */
typedef struct { int64_t *io; int64_t index; sp_wg wg; } worker_arg;

static void many_worker(void *p)
{
    worker_arg *w = p;
    for (int64_t i = 0; i < w->io[1]; i++)
        sp_gosched();
    atomic_fetch_add((_Atomic int64_t *)&w->io[4 + w->index], 1);
    atomic_fetch_add((_Atomic int64_t *)&w->io[2], 1);
    sp_wg_done(w->wg);
}

EXPORT void tp_spawn_many(void *p)
{
    int64_t *io = p;
    worker_arg *args = malloc(sizeof *args * (size_t)io[0]);
    sp_wg wg;
    if (sp_wg_make(&wg) != SP_OK || sp_wg_add(wg, (int)io[0]) != SP_OK) {
        io[3]++;
        return;
    }
    for (int64_t i = 0; i < io[0]; i++) {
        args[i].io = io;
        args[i].index = i;
        args[i].wg = wg;
        if (sp_go(many_worker, &args[i]) != SP_OK)
            io[3]++;
    }
    if (sp_wg_wait(wg) != SP_OK)
        io[3]++;
    sp_wg_release(wg);
    free(args);
}

/* ---- a blocking call must not stop the others: io[0] block ns; io[1] progress made
        by another goroutine while the first was blocked; io[2] errors */
static _Atomic int blocked_done;

static void blocker(void *p)
{
    int64_t *io = p;
    if (sp_block_enter() != SP_OK)
        io[2]++;
    struct timespec ts = { io[0] / 1000000000, io[0] % 1000000000 };
    nanosleep(&ts, NULL); /* a call that blocks the thread */
    if (sp_block_exit() != SP_OK)
        io[2]++;
    atomic_store(&blocked_done, 1);
}

static void spinner_hog(void *p)
{
    int64_t *io = p;
    int64_t end = now_ns() + io[0];
    while (now_ns() < end) /* no runtime call at all */
        ;
    atomic_store(&blocked_done, 1);
}

static void run_alongside(int64_t *io, sp_fn stuck)
{
    atomic_store(&blocked_done, 0);
    sp_go(stuck, io);
    sp_gosched(); /* let it start and get stuck */
    while (!atomic_load(&blocked_done)) {
        io[1]++;
        sp_gosched();
    }
}

EXPORT void tp_blocking_call(void *p) { run_alongside(p, blocker); }
EXPORT void tp_spinning_hog(void *p) { run_alongside(p, spinner_hog); }

/* ---- sleeps: io[0] n sleepers; io[1] base ns; sleeper i sleeps (n - i) * base.
        io[2] next wake slot; io[3 ...] per slot: sleeper index; then per sleeper
        (at io[3 + n + i]) how long it actually slept */
typedef struct { int64_t *io; int64_t index; sp_wg wg; } sleeper_arg;

static void sleeper(void *p)
{
    sleeper_arg *s = p;
    int64_t n = s->io[0];
    int64_t want = (n - s->index) * s->io[1];
    int64_t start = now_ns();
    sp_sleep(want);
    int64_t slept = now_ns() - start;
    int64_t slot = atomic_fetch_add((_Atomic int64_t *)&s->io[2], 1);
    s->io[3 + slot] = s->index;
    s->io[3 + n + s->index] = slept;
    sp_wg_done(s->wg);
}

EXPORT void tp_sleepers(void *p)
{
    int64_t *io = p;
    sleeper_arg args[64];
    sp_wg wg;
    sp_wg_make(&wg);
    sp_wg_add(wg, (int)io[0]);
    for (int64_t i = 0; i < io[0] && i < 64; i++) {
        args[i].io = io;
        args[i].index = i;
        args[i].wg = wg;
        sp_go(sleeper, &args[i]);
    }
    sp_wg_wait(wg);
}

/* ---- waits forever on a wait group nobody will finish */
EXPORT void tp_wait_forever(void *p)
{
    (void)p;
    sp_wg wg;
    sp_wg_make(&wg);
    sp_wg_add(wg, 1);
    sp_wg_wait(wg);
}

/* ---- a sleeper keeps the program alive: io[0] ns to sleep */
EXPORT void tp_sleep_then_return(void *p)
{
    sp_sleep(((int64_t *)p)[0]);
}

/* ---- callbacks: io[0] id that adds 1, io[1] id that throws; io[2] result of the
        first, io[3] code of the second, io[4] code of an unregistered id, io[5] result
        of the first again after the failure */
EXPORT void tp_callbacks(void *p)
{
    int64_t *io = p;
    int64_t result = 0;
    io[3] = sp_call((int32_t)io[1], (void *)41, &result);
    sp_call((int32_t)io[0], (void *)41, &io[2]);
    io[4] = sp_call(987654, NULL, &result);
    sp_call((int32_t)io[0], (void *)99, &io[5]);
}

/* ---- bad input inside a goroutine: the codes, in order, into io[0 ...] */
EXPORT void tp_bad_input(void *p)
{
    int64_t *io = p;
    int k = 0;
    sp_wg wg = 0;
    io[k++] = sp_go(NULL, NULL);                    /* SP_EINVAL */
    io[k++] = sp_block_exit();                      /* SP_ESTATE */
    io[k++] = sp_block_enter();                     /* SP_OK */
    io[k++] = sp_block_enter();                     /* SP_ESTATE */
    io[k++] = sp_block_exit();                      /* SP_OK */
    io[k++] = sp_wg_make(NULL);                     /* SP_EINVAL */
    io[k++] = sp_wg_make(&wg);                      /* SP_OK */
    io[k++] = sp_wg_add(wg, -1);                    /* SP_EINVAL: would go negative */
    io[k++] = sp_wg_add(wg, 1);                     /* SP_OK */
    io[k++] = sp_wg_release(wg);                    /* SP_OK */
    io[k++] = sp_wg_add(wg, 1);                     /* SP_ESTALE */
    io[k++] = sp_wg_wait(wg);                       /* SP_ESTALE */
    io[k++] = sp_wg_release(wg);                    /* SP_ESTALE */
    io[k++] = sp_wg_add(0, 1);                      /* SP_EINVAL: 0 is never a handle */
    io[k++] = sp_coro_yield();                      /* SP_OK: a bare yield is a gosched */
    io[k++] = sp_sleep(-5);                         /* SP_OK: just yields */
    io[k++] = 12345;                                /* end marker */
}

/* ---- allocation: two goroutines yielding. io[0] rounds each; io[1] done; io[2]
        callback id run before the steady-state loop, io[3] callback id run after it */
static void measured_yielder(void *p)
{
    int64_t *io = p;
    for (int64_t i = 0; i < io[0]; i++)
        sp_gosched();
    atomic_fetch_add((_Atomic int64_t *)&io[1], 1);
}

EXPORT void tp_yield_pair_measured(void *p)
{
    int64_t *io = p;
    int64_t ignored;
    sp_go(measured_yielder, p);
    for (int i = 0; i < 1000; i++) /* warm up: pools, queues, code paths */
        sp_gosched();
    sp_call((int32_t)io[2], NULL, &ignored);
    measured_yielder(p);
    while (atomic_load((_Atomic int64_t *)&io[1]) < 2)
        sp_gosched();
    sp_call((int32_t)io[3], NULL, &ignored);
}

/* ---- a native goroutine counting: io[0] steps; io[1] steps done (yields each step) */
EXPORT void tp_count_steps(void *p)
{
    int64_t *io = p;
    for (int64_t i = 0; i < io[0]; i++) {
        atomic_fetch_add((_Atomic int64_t *)&io[1], 1);
        sp_gosched();
    }
}

/* ---- busy goroutines for GOMAXPROCS changes: io[0] goroutines; io[1] stop flag;
        io[2] finished */
static void busy(void *p)
{
    int64_t *io = p;
    while (!atomic_load((_Atomic int64_t *)&io[1])) {
        int64_t end = now_ns() + 20000; /* 20 us of work between runtime calls */
        while (now_ns() < end)
            ;
        sp_gosched();
    }
    atomic_fetch_add((_Atomic int64_t *)&io[2], 1);
}

EXPORT void tp_start_busy(void *p)
{
    int64_t *io = p;
    for (int64_t i = 0; i < io[0]; i++)
        sp_go(busy, p);
}

/* ---- stack kinds: io[0] the main goroutine's (sp_coro_stack_kind), io[1] that
        of a goroutine it starts. */
typedef struct { int64_t *io; sp_wg wg; } kind_arg;

static void record_kind(void *p)
{
    kind_arg *a = p;
    a->io[1] = sp_coro_stack_kind(sp_coro_self());
    sp_wg_done(a->wg);
}

EXPORT void tp_stack_kind(void *p)
{
    kind_arg a = { p, 0 };
    a.io[0] = sp_coro_stack_kind(sp_coro_self());
    a.io[1] = -1;
    if (sp_wg_make(&a.wg) != SP_OK || sp_wg_add(a.wg, 1) != SP_OK || sp_go(record_kind, &a) != SP_OK)
        return;
    sp_wg_wait(a.wg);
    sp_wg_release(a.wg);
}

/* ---- parked memory: io[0] goroutines park in a channel receive; io[1] resident
        bytes before they start, io[2] once all have started and parked, io[3]
        errors, io[4] how many woke when the channel closed. */
EXPORT void tp_park_many(void *p)
{
    int64_t *io = p;
    wl_park_result r = { 0, 0, 0 };
    io[3] = wl_park(io[0], &r);
    io[1] = r.resident_before;
    io[2] = r.resident_parked;
    io[4] = r.woken;
}

/* ---- deep goroutines that move between workers: io[0] goroutines each recurse
        io[1] frames deep, yielding every 64 frames on the way down and up (so a
        goroutine grows segments on one worker and gives them back on another);
        io[2] goroutines whose sum was right; io[3] errors. */
typedef struct { int64_t *io; sp_wg wg; } deep_arg;

static __attribute__((noinline, noipa)) int64_t deep_descend(int64_t n, int64_t *errors)
{
    volatile int64_t mark = n * 3;
    if (n % 64 == 0 && sp_gosched() != SP_OK)
        (*errors)++;
    if (n == 0)
        return 0;
    int64_t below = deep_descend(n - 1, errors);
    if (n % 64 == 32 && sp_gosched() != SP_OK)
        (*errors)++;
    return below + mark;
}

static void deep_worker(void *p)
{
    deep_arg *a = p;
    int64_t errors = 0, n = a->io[1];
    int64_t sum = deep_descend(n, &errors);
    if (sum == 3 * n * (n + 1) / 2)
        atomic_fetch_add((_Atomic int64_t *)&a->io[2], 1);
    atomic_fetch_add((_Atomic int64_t *)&a->io[3], errors);
    sp_wg_done(a->wg);
}

EXPORT void tp_deep_moving(void *p)
{
    int64_t *io = p;
    static deep_arg a;
    a.io = io;
    if (sp_wg_make(&a.wg) != SP_OK || sp_wg_add(a.wg, (int)io[0]) != SP_OK) {
        io[3]++;
        return;
    }
    for (int64_t i = 0; i < io[0]; i++)
        if (sp_go(deep_worker, &a) != SP_OK)
            io[3]++;
    if (sp_wg_wait(a.wg) != SP_OK)
        io[3]++;
    sp_wg_release(a.wg);
}

static __attribute__((noinline)) void print_deep(const int64_t *io)
{
    printf("%lld of %lld deep goroutines summed right; %lld errors\n", (long long)io[2], (long long)io[0],
           (long long)io[3]);
}

/* tp_deep_moving for `spindle run --entry`: SPINDLE_DEEP_GOROUTINES goroutines
   (200 without it), 3,000 frames each; prints what io holds. */
EXPORT void tp_deep_moving_main(void *unused)
{
    (void)unused;
    static int64_t io[4];
    const char *n = getenv("SPINDLE_DEEP_GOROUTINES");
    io[0] = n != NULL ? atoi(n) : 200;
    io[1] = 3000;
    tp_deep_moving(io);
    print_deep(io);
}

/* ---- spawns the run loop serves: io[0] count; io[1] set when all finished;
        io[2] errors; io[3 ...] one run counter per goroutine */
typedef struct { int64_t *io; sp_wg wg; } spawn_ctx;
static spawn_ctx spawn_shared;

static void count_and_done(void *p)
{
    int64_t index = (int64_t)(intptr_t)p;
    spawn_shared.io[3 + index]++; /* one P, or distinct slots: no race */
    sp_wg_done(spawn_shared.wg);
}

EXPORT void tp_spawn_native(void *p)
{
    int64_t *io = p;
    spawn_shared.io = io;
    if (sp_wg_make(&spawn_shared.wg) != SP_OK || sp_wg_add(spawn_shared.wg, (int)io[0]) != SP_OK)
        io[2]++;
    for (int64_t i = 0; i < io[0]; i++)
        if (sp_go(count_and_done, (void *)(intptr_t)i) != SP_OK)
            io[2]++;
    if (sp_wg_wait(spawn_shared.wg) != SP_OK || sp_wg_release(spawn_shared.wg) != SP_OK)
        io[2]++;
    atomic_store((_Atomic int64_t *)&io[1], 1);
}

/* ---- goroutines that have not run yet, in a dump: spawns io[0] (at most 16),
        then calls callback io[1] (which takes the dump) before it yields; io[2]
        errors */
static sp_wg fresh_done;

static void fresh_child(void *p)
{
    (void)p;
    sp_wg_done(fresh_done);
}

EXPORT void tp_dump_fresh(void *p)
{
    int64_t *io = p;
    int64_t ignored;
    if (sp_wg_make(&fresh_done) != SP_OK || sp_wg_add(fresh_done, (int)io[0]) != SP_OK)
        io[2]++;
    for (int64_t i = 0; i < io[0]; i++)
        if (sp_go(fresh_child, NULL) != SP_OK)
            io[2]++;
    if (sp_call((int32_t)io[1], NULL, &ignored) != SP_OK)
        io[2]++;
    if (sp_wg_wait(fresh_done) != SP_OK || sp_wg_release(fresh_done) != SP_OK)
        io[2]++;
}

/* ---- a wait group left unreleased: io[0] its handle (made here, counter 1) */
EXPORT void tp_wg_unreleased(void *p)
{
    int64_t *io = p;
    sp_wg wg = 0;
    sp_wg_make(&wg);
    sp_wg_add(wg, 1);
    io[0] = (int64_t)wg;
}

/* ---- a later runtime uses it: io[0] the handle; io[1] what sp_wg_add answers */
EXPORT void tp_wg_use(void *p)
{
    int64_t *io = p;
    io[1] = sp_wg_add((sp_wg)io[0], 1);
}
