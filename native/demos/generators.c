/* spindle demo: what the native core does today, in a few seconds.
   1. Two generators, each a coroutine with its own stack, interleaved.
   2. A runtime call: a coroutine asks its resumer for something and parks.
   3. 100,000 coroutines parked at once: memory per coroutine, cost of a switch. */
#define _POSIX_C_SOURCE 200809L
#include <spindle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(_WIN32)
#  include <windows.h>
#endif

static int64_t yielded; /* a generator's current value */

static void fibonacci(void *arg)
{
    int64_t a = 0, b = 1;
    for (int i = 0; i < *(int *)arg; i++) {
        yielded = a;
        sp_coro_yield();
        int64_t next = a + b;
        a = b;
        b = next;
    }
}

static void primes(void *arg)
{
    int found = 0;
    for (int64_t n = 2; found < *(int *)arg; n++) {
        int prime = 1;
        for (int64_t d = 2; d * d <= n; d++)
            if (n % d == 0) { prime = 0; break; }
        if (prime) {
            found++;
            yielded = n;
            sp_coro_yield();
        }
    }
}

enum { OP_ASK_TIME = 1 };

static void asker(void *arg)
{
    (void)arg;
    sp_request req;
    memset(&req, 0, sizeof req);
    req.op = OP_ASK_TIME;
    int err = sp_coro_request(&req);
    printf("  coroutine %llu: the resumer answered %s with value %lld\n",
           (unsigned long long)sp_coro_id(sp_coro_self()), sp_strerror(err), (long long)req.value);
}

static void parked(void *arg)
{
    (void)arg;
    for (;;)
        sp_coro_yield();
}

static double now_ns(void)
{
#if defined(_WIN32)
    LARGE_INTEGER t, f;
    QueryPerformanceCounter(&t);
    QueryPerformanceFrequency(&f);
    return (double)t.QuadPart * 1e9 / (double)f.QuadPart;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
#endif
}

static long rss_kib(void)
{
    long total = 0, resident = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &total, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident < 0 ? -1 : resident * 4;
}

int main(void)
{
    printf("spindle %s demo\n\n1. two generators, interleaved:\n", sp_version());
    int count = 10;
    sp_coro *fib = NULL, *pri = NULL;
    sp_coro_create(&fib, fibonacci, &count, NULL);
    sp_coro_create(&pri, primes, &count, NULL);
    for (int i = 0; i < count; i++) {
        sp_coro_resume(fib);
        int64_t f = yielded;
        sp_coro_resume(pri);
        printf("  fib %-4lld prime %lld\n", (long long)f, (long long)yielded);
    }
    sp_coro_destroy(fib);
    sp_coro_destroy(pri);

    printf("\n2. a runtime call crossing the switch:\n");
    sp_coro *ask = NULL;
    sp_coro_create(&ask, asker, NULL, NULL);
    while (sp_coro_resume(ask) == SP_CORO_REQUEST) {
        sp_request *req = sp_coro_pending(ask);
        printf("  resumer: coroutine asks op %d; serving it on the thread's own stack\n", req->op);
        req->value = (int64_t)time(NULL);
        req->result = SP_OK;
    }
    sp_coro_destroy(ask);

    enum { N = 100000 };
    printf("\n3. %d coroutines parked at once (guard: %s):\n", N,
           sp_stack_guard_mode_name(sp_stack_guard_mode()));
    sp_coro **all = calloc(N, sizeof *all);
    long before = rss_kib();
    double t0 = now_ns();
    int made = 0;
    for (; made < N; made++) {
        if (sp_coro_create(&all[made], parked, NULL, NULL) != SP_OK)
            break;
        sp_coro_resume(all[made]);
    }
    double t1 = now_ns();
    long during = rss_kib();
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < made; i++)
            sp_coro_resume(all[i]);
    double t2 = now_ns();
    for (int i = 0; i < made; i++)
        sp_coro_destroy(all[i]);
    free(all);
    printf("  created and started %d in %.1f ms\n", made, (t1 - t0) / 1e6);
    if (before >= 0)
        printf("  resident memory: %.0f bytes per parked coroutine\n",
               (double)(during - before) * 1024.0 / made);
    printf("  %.1f ns per resume+yield pair across all of them (cache-cold round robin)\n",
           (t2 - t1) / (10.0 * made));
    return 0;
}
