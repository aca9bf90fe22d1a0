/* Native goroutine programs that bench/Spindle.Benchmarks measures, the same work as
   bench/go/main.go does in Go. Each takes an int64_t count as its argument. */
#define _POSIX_C_SOURCE 200809L
#include "goroutine_program.h"
#include <stdatomic.h>
#include <stdlib.h>

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

/* ---- channels: the same programs as bench/go/main.go's pingPong, ring and sieve. */
static sp_chan ping, pong;
static int64_t rounds;

static void ponger(void *arg)
{
    (void)arg;
    int64_t v;
    for (int64_t i = 0; i < rounds; i++) {
        sp_chan_recv(ping, &v, NULL);
        sp_chan_send(pong, &v);
    }
}

/* `rounds` round trips over two unbuffered channels. */
EXPORT void bench_chan_pingpong(void *arg)
{
    rounds = (int64_t)(intptr_t)arg;
    sp_chan_make(&ping, sizeof(int64_t), 0);
    sp_chan_make(&pong, sizeof(int64_t), 0);
    sp_go(ponger, NULL);
    int64_t v = 0;
    for (int64_t i = 0; i < rounds; i++) {
        sp_chan_send(ping, &v);
        sp_chan_recv(pong, &v, NULL);
    }
    sp_chan_release(ping);
    sp_chan_release(pong);
}

typedef struct { sp_chan in, out; int64_t laps; sp_wg done; } ring_member;

static void ring_hop(void *arg)
{
    ring_member *m = arg;
    int64_t token;
    for (int64_t lap = 0; lap < m->laps; lap++) {
        sp_chan_recv(m->in, &token, NULL);
        token++;
        sp_chan_send(m->out, &token);
    }
    sp_wg_done(m->done);
}

/* A token goes 10 times around a ring of `n` goroutines (10 x n hops); link n
   returns it to main after each lap. */
EXPORT void bench_chan_ring(void *arg)
{
    int64_t n = (int64_t)(intptr_t)arg, laps = 10;
    sp_chan *links = malloc(sizeof *links * (size_t)(n + 1));
    ring_member *members = malloc(sizeof *members * (size_t)n);
    sp_wg done;
    sp_wg_make(&done);
    sp_wg_add(done, (int)n);
    for (int64_t i = 0; i <= n; i++)
        sp_chan_make(&links[i], sizeof(int64_t), 0);
    for (int64_t i = 0; i < n; i++) {
        members[i] = (ring_member){ links[i], links[i + 1], laps, done };
        sp_go(ring_hop, &members[i]);
    }
    int64_t token = 0;
    for (int64_t lap = 0; lap < laps; lap++) {
        sp_chan_send(links[0], &token);
        sp_chan_recv(links[n], &token, NULL);
    }
    sp_wg_wait(done);
    for (int64_t i = 0; i <= n; i++)
        sp_chan_release(links[i]);
    sp_wg_release(done);
    free(links);
    free(members);
}

typedef struct { sp_chan in, out; int64_t prime; } filter_arg;

static void generate(void *arg)
{
    sp_chan out = (sp_chan)(uintptr_t)arg;
    for (int64_t i = 2;; i++)
        if (sp_chan_send(out, &i) != SP_OK)
            return;
}

static void filter(void *arg)
{
    filter_arg *f = arg;
    int64_t v;
    bool ok;
    while (sp_chan_recv(f->in, &v, &ok) == SP_OK && ok)
        if (v % f->prime != 0 && sp_chan_send(f->out, &v) != SP_OK)
            return;
}

static filter_arg *filters;

/* The concurrent prime sieve up to the `count`th prime; its goroutines stay parked
   when main returns (the runtime discards them), as in the Go program. */
EXPORT void bench_sieve(void *arg)
{
    int64_t count = (int64_t)(intptr_t)arg;
    free(filters); /* the previous run's runtime has stopped: nobody uses them now */
    filters = malloc(sizeof *filters * (size_t)count);
    sp_chan ch;
    sp_chan_make(&ch, sizeof(int64_t), 0);
    sp_go(generate, (void *)(uintptr_t)ch);
    for (int64_t i = 0; i < count; i++) {
        int64_t prime;
        sp_chan_recv(ch, &prime, NULL);
        filters[i].in = ch;
        filters[i].prime = prime;
        sp_chan_make(&filters[i].out, sizeof(int64_t), 0);
        ch = filters[i].out;
        sp_go(filter, &filters[i]);
    }
}
