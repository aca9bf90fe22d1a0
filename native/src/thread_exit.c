/* Cleanup at thread exit, for every layer that keeps per-thread state: each
   arms it for its own cleanup, and the platform's thread-exit hook
   (platform_*.c) runs them all. The layers never call each other for it. */
#include "coro_internal.h"

enum { MAX_CLEANUPS = 8 }; /* pools, segment caches, the alternate signal stack */

static void (*_Atomic cleanups[MAX_CLEANUPS])(void);
static _Atomic int cleanup_count;
static sp_lock cleanup_lock;
static SP_THREAD_LOCAL int tls_armed;

static int registered(void (*cleanup)(void))
{
    int n = __atomic_load_n(&cleanup_count, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++)
        if (__atomic_load_n(&cleanups[i], __ATOMIC_RELAXED) == cleanup)
            return 1;
    return 0;
}

void sp_arm_thread_exit(void (*cleanup)(void))
{
    if (!registered(cleanup)) {
        sp_lock_acquire(&cleanup_lock);
        int n = __atomic_load_n(&cleanup_count, __ATOMIC_RELAXED);
        if (!registered(cleanup) && n < MAX_CLEANUPS) {
            __atomic_store_n(&cleanups[n], cleanup, __ATOMIC_RELAXED);
            __atomic_store_n(&cleanup_count, n + 1, __ATOMIC_RELEASE);
        }
        sp_lock_release(&cleanup_lock);
    }
    if (!tls_armed) {
        tls_armed = 1;
        sp_platform_arm_thread_exit();
    }
}

void sp_thread_exit_run(void)
{
    /* Every cleanup runs; each finds nothing to do where its layer kept
       nothing for this thread. */
    int n = __atomic_load_n(&cleanup_count, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++)
        __atomic_load_n(&cleanups[i], __ATOMIC_RELAXED)();
}
