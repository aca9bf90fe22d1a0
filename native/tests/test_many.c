/* 100,000 coroutines alive at once, each parked mid-run, then finished and
   destroyed: none lost, none run twice, and the memory goes back (RSS returns
   near its baseline on Linux). Set SPINDLE_TEST_COROUTINES to change the
   count (the memcheck run uses fewer). */
#include "check.h"
#include <spindle.h>
#include <string.h>
#if defined(_WIN32)
#  include <windows.h>
#endif

static unsigned char *runs; /* per coroutine: how many times each phase ran */

static void body(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    volatile char touch[512]; /* every coroutine dirties some of its stack */
    memset((char *)touch, (int)(i & 0xff), sizeof touch);
    runs[i] += 1;
    sp_coro_yield();
    runs[i] += 16;
}

static long rss_kib(void)
{
    if (getenv("SPINDLE_TEST_SKIP_RSS") != NULL)
        return -1;
#if defined(__linux__)
    FILE *f = fopen("/proc/self/statm", "r");
    long pages_total = 0, pages_resident = 0;
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2)
        pages_resident = -1;
    fclose(f);
    return pages_resident * 4; /* statm counts 4 KiB pages on x86-64 and AArch64 Linux */
#else
    return -1;
#endif
}

/* wine maps each Windows stack as at least two Linux mappings. */
static int running_under_wine(void)
{
#if defined(_WIN32)
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
#else
    return 0;
#endif
}

static size_t coroutine_count(void)
{
    const char *env = getenv("SPINDLE_TEST_COROUTINES");
    if (env != NULL && atol(env) > 0)
        return (size_t)atol(env);
    /* Where each stack costs two host mappings (mprotect guards, or wine),
       stay well under vm.max_map_count (65530), as the README says. */
    if (sp_stack_guard_mode() == SP_GUARD_MPROTECT || running_under_wine()) {
        printf("  two mappings per stack here: 30,000 coroutines instead of 100,000\n");
        return 30000;
    }
    return 100000;
}

static void test_many_coroutines_alive_at_once(void)
{
    size_t n = coroutine_count();
    sp_coro **all = calloc(n, sizeof *all);
    runs = calloc(n, 1);
    CHECK(all != NULL && runs != NULL);

    /* Warm up the pools and the allocator so the baseline is steady. */
    for (int i = 0; i < 2; i++) {
        sp_coro *co = NULL;
        runs[0] = 0;
        CHECK_EQ(sp_coro_create(&co, body, (void *)(uintptr_t)0, NULL), SP_OK);
        sp_coro_resume(co);
        sp_coro_resume(co);
        sp_coro_destroy(co);
    }
    runs[0] = 0;
    long baseline = rss_kib();

    for (size_t i = 0; i < n; i++) {
        int err = sp_coro_create(&all[i], body, (void *)(uintptr_t)i, NULL);
        if (err != SP_OK) {
            fprintf(stderr, "create #%zu failed: %s\n", i, sp_strerror(err));
            check_failures++;
            n = i;
            break;
        }
        CHECK_EQ(sp_coro_resume(all[i]), SP_CORO_SUSPENDED);
    }
    long peak = rss_kib();
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(sp_coro_resume(all[i]), SP_CORO_DONE);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++)
        wrong += runs[i] != 17;
    CHECK_EQ(wrong, 0);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(sp_coro_destroy(all[i]), SP_OK);
    long after = rss_kib();

    printf("  %zu coroutines: RSS baseline %ld KiB, all parked %ld KiB (%.0f bytes each), "
           "after destroy %ld KiB\n", n, baseline, peak,
           baseline >= 0 ? (double)(peak - baseline) * 1024.0 / (double)n : 0.0, after);
    if (baseline >= 0) {
        /* All that may stay: the pools' stacks, one page each at most. */
        CHECK(after - baseline < 8 * 1024);
        CHECK(peak - baseline > (long)(n * 4 / 1024)); /* they really were alive */
    }
    free(all);
    free(runs);
}

int main(void)
{
    RUN(test_many_coroutines_alive_at_once);
    return test_summary();
}
