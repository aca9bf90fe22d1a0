/* Goroutine demos run by `spindle demo NAME`. Each is a main goroutine taking an
   int64_t parameter (0 for its default). They talk over channels, as Go programs do. */
#define _POSIX_C_SOURCE 200809L
#include "goroutine_program.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- pingpong: two goroutines send a counter back and forth over two unbuffered
   channels. */
static sp_chan ping, pong;
static int64_t rounds;

static void ponger(void *arg)
{
    (void)arg;
    int64_t v;
    for (int64_t i = 0; i < rounds; i++) {
        sp_chan_recv(ping, &v, NULL);
        v++;
        sp_chan_send(pong, &v);
    }
}

EXPORT void demo_pingpong(void *param)
{
    rounds = (int64_t)(intptr_t)param > 0 ? (int64_t)(intptr_t)param : 1000000;
    sp_chan_make(&ping, sizeof(int64_t), 0);
    sp_chan_make(&pong, sizeof(int64_t), 0);
    sp_go(ponger, NULL);
    int64_t start = now_ns(), v = 0;
    for (int64_t i = 0; i < rounds; i++) {
        sp_chan_send(ping, &v);
        sp_chan_recv(pong, &v, NULL);
    }
    double ns = (double)(now_ns() - start);
    printf("%lld round trips (counter now %lld) in %.1f ms: %.1f ns per round trip\n",
           (long long)rounds, (long long)v, ns / 1e6, ns / (double)rounds);
    sp_chan_release(ping);
    sp_chan_release(pong);
}

/* ---- ring: goroutines in a ring, each with its own unbuffered channel, pass a token
   to the next; the token carries the number of hops so far. After the last lap,
   member 0 hands it back to main. */
typedef struct { sp_chan *links; int64_t n, laps, index; sp_wg done; } ring_member;

static void member(void *arg)
{
    ring_member *m = arg;
    sp_chan in = m->links[m->index], out = m->links[(m->index + 1) % m->n];
    int64_t hops;
    for (int64_t lap = 0; lap < m->laps; lap++) {
        sp_chan_recv(in, &hops, NULL);
        hops++;
        sp_chan_send(out, &hops);
    }
    if (m->index == 0) {
        sp_chan_recv(in, &hops, NULL);
        sp_chan_send(m->links[m->n], &hops);
    }
    sp_wg_done(m->done);
}

EXPORT void demo_ring(void *param)
{
    int64_t n = (int64_t)(intptr_t)param > 1 ? (int64_t)(intptr_t)param : 10000, laps = 10;
    sp_chan *links = malloc(sizeof *links * (size_t)(n + 1)); /* links[n]: back to main */
    ring_member *members = malloc(sizeof *members * (size_t)n);
    sp_wg done;
    sp_wg_make(&done);
    sp_wg_add(done, (int)n);
    for (int64_t i = 0; i <= n; i++)
        sp_chan_make(&links[i], sizeof(int64_t), 0);
    for (int64_t i = 0; i < n; i++) {
        members[i] = (ring_member){ links, n, laps, i, done };
        sp_go(member, &members[i]);
    }
    int64_t start = now_ns(), hops = 0;
    sp_chan_send(links[0], &hops); /* hand the token to member 0 */
    sp_chan_recv(links[n], &hops, NULL);
    double ns = (double)(now_ns() - start);
    printf("%lld goroutines, token passed %lld times in %.1f ms: %.1f ns per hop\n",
           (long long)n, (long long)hops, ns / 1e6, ns / (double)hops);
    sp_wg_wait(done);
    for (int64_t i = 0; i <= n; i++)
        sp_chan_release(links[i]);
    sp_wg_release(done);
    free(links);
    free(members);
}

/* ---- sieve: the concurrent prime sieve of the Go tour. A generator sends 2, 3, 4, ...;
   each prime found adds a filter goroutine, with its own channel, that drops the
   multiples of that prime. Prints the primes ten to a line. As in Go, main returning
   ends the program: the generator and filters are still parked then. */
typedef struct { sp_chan in, out; int64_t prime; } filter_arg;

static void generate(void *arg)
{
    sp_chan out = (sp_chan)(uintptr_t)arg;
    for (int64_t i = 2;; i++)
        sp_chan_send(out, &i);
}

static void filter(void *arg)
{
    filter_arg *f = arg;
    int64_t v;
    for (;;) {
        sp_chan_recv(f->in, &v, NULL);
        if (v % f->prime != 0)
            sp_chan_send(f->out, &v);
    }
}

EXPORT void demo_sieve(void *param)
{
    int64_t count = (int64_t)(intptr_t)param > 0 ? (int64_t)(intptr_t)param : 1000;
    filter_arg *filters = malloc(sizeof *filters * (size_t)count);
    sp_chan ch;
    sp_chan_make(&ch, sizeof(int64_t), 0);
    int64_t start = now_ns();
    sp_go(generate, (void *)(uintptr_t)ch);
    for (int64_t i = 0; i < count; i++) {
        int64_t prime;
        sp_chan_recv(ch, &prime, NULL);
        printf("%lld%c", (long long)prime, (i % 10 == 9 || i == count - 1) ? '\n' : ' ');
        filters[i].in = ch;
        filters[i].prime = prime;
        sp_chan_make(&filters[i].out, sizeof(int64_t), 0);
        ch = filters[i].out;
        sp_go(filter, &filters[i]);
    }
    double ms = (double)(now_ns() - start) / 1e6;
    fflush(stdout);
    fprintf(stderr, "%lld primes through %lld filter goroutines in %.1f ms\n",
            (long long)count, (long long)count, ms);
    /* filters stay allocated: their goroutines are parked on them until the runtime stops */
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
