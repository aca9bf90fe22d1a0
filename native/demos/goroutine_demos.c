/* Goroutine demos run by `spindle demo NAME`. Each is a main goroutine taking an
   int64_t parameter (0 for its default). Channels arrive with the next part of
   Spindle; until then, goroutines here hand off work with yields and wait groups. */
#define _POSIX_C_SOURCE 200809L
#include <spindle.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(_WIN32)
#  define EXPORT __declspec(dllexport)
#else
#  define EXPORT __attribute__((visibility("default")))
#endif

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- gomaxprocs: the article's experiment. Two goroutines write 0s and 1s into
   one line, doing a little work per digit and yielding every 40 digits. With
   GOMAXPROCS=1 they take turns in blocks of 40; with 2 they run at once and the
   digits mix. */
enum { DIGITS = 2000, BLOCK = 40 };
static char line[2 * DIGITS + 1];
static _Atomic int line_len;
static sp_wg writers_done;

static void writer(void *arg)
{
    char digit = (char)(intptr_t)arg;
    for (int i = 1; i <= DIGITS; i++) {
        int64_t end = now_ns() + 500; /* half a microsecond of "work" per digit */
        while (now_ns() < end)
            ;
        line[atomic_fetch_add(&line_len, 1)] = digit;
        if (i % BLOCK == 0)
            sp_gosched();
    }
    sp_wg_done(writers_done);
}

EXPORT void demo_gomaxprocs(void *param)
{
    (void)param;
    atomic_store(&line_len, 0);
    sp_wg_make(&writers_done);
    sp_wg_add(writers_done, 2);
    sp_go(writer, (void *)(intptr_t)'0');
    sp_go(writer, (void *)(intptr_t)'1');
    sp_wg_wait(writers_done);
    sp_wg_release(writers_done);
    line[2 * DIGITS] = '\0';
    int changes = 0;
    for (int i = 1; i < 2 * DIGITS; i++)
        changes += line[i] != line[i - 1];
    printf("...%.120s...\n", line + DIGITS - 60); /* the middle, where both run */
    printf("%d digits, %d changes between 0 and 1 (taking turns in blocks of %d gives %d)\n",
           2 * DIGITS, changes, BLOCK, 2 * DIGITS / BLOCK - 1);
}

/* ---- pingpong: two goroutines take turns through a shared flag, yielding until it
   is theirs. */
static _Atomic int64_t turn;
static int64_t rounds;

static void player(void *arg)
{
    int64_t me = (int64_t)(intptr_t)arg;
    for (int64_t i = 0; i < rounds; i++) {
        while (atomic_load(&turn) % 2 != me)
            sp_gosched();
        atomic_fetch_add(&turn, 1);
    }
}

EXPORT void demo_pingpong(void *param)
{
    rounds = (int64_t)(intptr_t)param > 0 ? (int64_t)(intptr_t)param : 1000000;
    atomic_store(&turn, 0);
    int64_t start = now_ns();
    sp_go(player, (void *)1);
    player((void *)0);
    while (atomic_load(&turn) < 2 * rounds)
        sp_gosched();
    double ns = (double)(now_ns() - start);
    printf("%lld round trips in %.1f ms: %.1f ns per round trip (two goroutine switches)\n",
           (long long)rounds, ns / 1e6, ns / (double)rounds);
}

/* ---- ring: goroutines in a ring pass a token; each parks on its own wait group
   until the token reaches it. */
typedef struct { sp_wg *gates; int64_t n, laps, index; sp_wg done; } ring_member;

static void member(void *arg)
{
    ring_member *m = arg;
    sp_wg mine = m->gates[m->index], next = m->gates[(m->index + 1) % m->n];
    for (int64_t lap = 0; lap < m->laps; lap++) {
        sp_wg_wait(mine);
        sp_wg_add(mine, 1); /* re-arm before passing: the token returns only after */
        sp_wg_done(next);
    }
    sp_wg_done(m->done);
}

EXPORT void demo_ring(void *param)
{
    int64_t n = (int64_t)(intptr_t)param > 1 ? (int64_t)(intptr_t)param : 10000, laps = 10;
    sp_wg *gates = malloc(sizeof *gates * (size_t)n);
    ring_member *members = malloc(sizeof *members * (size_t)n);
    sp_wg done;
    sp_wg_make(&done);
    sp_wg_add(done, (int)n);
    for (int64_t i = 0; i < n; i++) {
        sp_wg_make(&gates[i]);
        sp_wg_add(gates[i], 1);
    }
    for (int64_t i = 0; i < n; i++) {
        members[i] = (ring_member){ gates, n, laps, i, done };
        sp_go(member, &members[i]);
    }
    int64_t start = now_ns();
    sp_wg_done(gates[0]); /* hand the token to member 0 */
    sp_wg_wait(done);
    double ns = (double)(now_ns() - start);
    printf("%lld goroutines, token passed %lld times in %.1f ms: %.1f ns per hop\n",
           (long long)n, (long long)(n * laps), ns / 1e6, ns / (double)(n * laps));
    for (int64_t i = 0; i < n; i++)
        sp_wg_release(gates[i]);
    sp_wg_release(done);
    free(gates);
    free(members);
}
