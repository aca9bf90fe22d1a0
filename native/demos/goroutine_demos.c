/* Goroutine demos run by `spindle demo NAME`. Each is a main goroutine taking an
   int64_t parameter (0 for its default). They talk over channels, as Go programs do. */
#define _POSIX_C_SOURCE 200809L
#include "goroutine_program.h"
#include "channel_workloads.h"
#include "park_workload.h"
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

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

/* ---- yield: two goroutines yield to each other, the cheapest switch there is. */
EXPORT void demo_yield(void *param)
{
    int64_t rounds = (int64_t)(intptr_t)param > 0 ? (int64_t)(intptr_t)param : 1000000;
    int64_t start = now_ns();
    wl_yield_pair(rounds);
    double ns = (double)(now_ns() - start);
    printf("%lld switches in %.1f ms: %.1f ns per switch\n", (long long)(2 * rounds), ns / 1e6,
           ns / (double)(2 * rounds));
}

/* ---- pingpong: two goroutines send a counter back and forth over two unbuffered
   channels. */
EXPORT void demo_pingpong(void *param)
{
    int64_t rounds = (int64_t)(intptr_t)param > 0 ? (int64_t)(intptr_t)param : 1000000;
    int64_t start = now_ns();
    int64_t counter = wl_pingpong(rounds);
    double ns = (double)(now_ns() - start);
    printf("%lld round trips (counter now %lld) in %.1f ms: %.1f ns per round trip\n",
           (long long)rounds, (long long)counter, ns / 1e6, ns / (double)rounds);
}

/* ---- ring: goroutines in a ring, each with its own unbuffered channel, pass a token
   to the next; the token counts its hops. */
EXPORT void demo_ring(void *param)
{
    int64_t n = (int64_t)(intptr_t)param > 1 ? (int64_t)(intptr_t)param : 10000;
    int64_t start = now_ns();
    int64_t hops = wl_ring(n, 10);
    double ns = (double)(now_ns() - start);
    printf("%lld goroutines, token passed %lld times in %.1f ms: %.1f ns per hop\n",
           (long long)n, (long long)hops, ns / 1e6, ns / (double)hops);
}

/* ---- sieve: the concurrent prime sieve of the Go tour, printing the primes ten to a
   line. As in Go, main returning ends the program with the filters still parked. */
static int64_t sieve_count;

static void print_prime(int64_t index, int64_t prime)
{
    printf("%lld%c", (long long)prime, (index % 10 == 9 || index == sieve_count - 1) ? '\n' : ' ');
}

EXPORT void demo_sieve(void *param)
{
    sieve_count = (int64_t)(intptr_t)param > 0 ? (int64_t)(intptr_t)param : 1000;
    int64_t start = now_ns();
    wl_sieve(sieve_count, print_prime);
    double ms = (double)(now_ns() - start) / 1e6;
    fflush(stdout);
    fprintf(stderr, "%lld primes through %lld filter goroutines in %.1f ms\n",
            (long long)sieve_count, (long long)sieve_count, ms);
}

/* ---- park: N goroutines parked in a channel receive, and the resident memory
   each holds (Go 1.19 holds 2,733 bytes here: bench/go/main.go). */
EXPORT void demo_park(void *param)
{
    int64_t n = (int64_t)(intptr_t)param > 0 ? (int64_t)(intptr_t)param : 100000;
    wl_park_result r = { 0, 0, 0 };
    int64_t start = now_ns();
    int64_t errors = wl_park(n, &r);
    double ms = (double)(now_ns() - start) / 1e6;
    printf("%lld goroutines parked in a channel receive: %.0f resident bytes each; "
           "%lld woke when it closed; %.0f ms in all%s\n",
           (long long)n, (double)(r.resident_parked - r.resident_before) / (double)n,
           (long long)r.woken, ms, errors != 0 ? " (SOME CALLS FAILED)" : "");
}

/* ---- pipeline: the native half of `spindle demo pipeline`. io[0] the channel the
   squares go to (made in C#), io[1] how many numbers, io[2] square workers. Numbers
   1..n go through a native channel to native workers that square them. */
typedef struct { sp_chan numbers, squares; sp_wg wg; } square_arg;

static void squarer(void *arg)
{
    square_arg *a = arg;
    int64_t v;
    bool ok;
    while (sp_chan_recv(a->numbers, &v, &ok) == SP_OK && ok) {
        v *= v;
        sp_chan_send(a->squares, &v);
    }
    sp_wg_done(a->wg);
}

EXPORT void demo_pipeline_native(void *param)
{
    int64_t *io = param;
    static square_arg a;
    a.squares = (sp_chan)io[0];
    sp_chan_make(&a.numbers, sizeof(int64_t), 16);
    sp_wg_make(&a.wg);
    sp_wg_add(a.wg, (int)io[2]);
    for (int64_t i = 0; i < io[2]; i++)
        sp_go(squarer, &a);
    for (int64_t v = 1; v <= io[1]; v++)
        sp_chan_send(a.numbers, &v);
    sp_chan_close(a.numbers);
    sp_wg_wait(a.wg);
    sp_chan_close(a.squares); /* the managed consumer's range loop ends */
    sp_chan_release(a.numbers);
    sp_wg_release(a.wg);
}
