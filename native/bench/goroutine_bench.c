/* Native goroutine programs that bench/Spindle.Benchmarks measures, the same work as
   bench/go/main.go does in Go. Each takes an int64_t count as its argument. */
#include <spindle.h>
#include <stdatomic.h>

#if defined(_WIN32)
#  define EXPORT __declspec(dllexport)
#else
#  define EXPORT __attribute__((visibility("default")))
#endif

static _Atomic int64_t finished;

static void yielder(void *arg)
{
    int64_t rounds = (int64_t)(intptr_t)arg;
    for (int64_t i = 0; i < rounds; i++)
        sp_gosched();
    atomic_fetch_add(&finished, 1);
}

/* Two goroutines on one P yield to each other `rounds` times each: 2 x rounds switches. */
EXPORT void bench_yield_pair(void *arg)
{
    atomic_store(&finished, 0);
    sp_go(yielder, arg);
    yielder(arg);
    while (atomic_load(&finished) < 2)
        sp_gosched();
}

static sp_wg spawned;

static void nothing(void *arg)
{
    (void)arg;
    sp_wg_done(spawned);
}

/* Starts `count` goroutines that do nothing, and waits until all have finished. */
EXPORT void bench_spawn(void *arg)
{
    int64_t count = (int64_t)(intptr_t)arg;
    sp_wg_make(&spawned);
    sp_wg_add(spawned, (int)count);
    for (int64_t i = 0; i < count; i++)
        sp_go(nothing, NULL);
    sp_wg_wait(spawned);
    sp_wg_release(spawned);
}
