/* See channel_workloads.h. */
#include "channel_workloads.h"

#include <spindle.h>
#include <stdlib.h>

typedef struct yielders {
    sp_wg done;
    int64_t rounds;
} yielders;

static void yielder(void *arg)
{
    const yielders *y = arg; /* the caller's, alive until both are done */
    for (int64_t i = 0; i < y->rounds; i++)
        sp_gosched();
    sp_wg_done(y->done);
}

void wl_yield_pair(int64_t rounds)
{
    yielders y = { .rounds = rounds };
    sp_wg_make(&y.done);
    sp_wg_add(y.done, 2);
    sp_go(yielder, &y);
    sp_go(yielder, &y);
    sp_wg_wait(y.done);
    sp_wg_release(y.done);
}

/* What a ping-pong's two sides share. The partner copies it before its first
   receive: the caller's copy lives until that receive completes, and nothing of
   one run (its channels, its count) is left in a global for the next to race on. */
typedef struct pingpong {
    sp_chan ping, pong, quit; /* quit: the select ping-pong's case that never fires */
    int64_t rounds;
} pingpong;

static void ponger(void *arg)
{
    pingpong pp = *(const pingpong *)arg;
    int64_t v;
    for (int64_t i = 0; i < pp.rounds; i++) {
        sp_chan_recv(pp.ping, &v, NULL);
        v++;
        sp_chan_send(pp.pong, &v);
    }
}

int64_t wl_pingpong(int64_t rounds)
{
    pingpong pp = { .rounds = rounds };
    sp_chan_make(&pp.ping, sizeof(int64_t), 0);
    sp_chan_make(&pp.pong, sizeof(int64_t), 0);
    sp_go(ponger, &pp);
    int64_t v = 0;
    for (int64_t i = 0; i < rounds; i++) {
        sp_chan_send(pp.ping, &v);
        sp_chan_recv(pp.pong, &v, NULL);
    }
    sp_chan_release(pp.ping);
    sp_chan_release(pp.pong);
    return v;
}

/* One select between sending v on ch and quit: 0 when it sent. */
static int send_or_quit(sp_chan ch, sp_chan quit, int64_t *v)
{
    sp_case cases[2] = { { ch, SP_SEND, v, NULL }, { quit, SP_RECV, NULL, NULL } };
    return sp_select(cases, 2, false);
}

/* One select between receiving into v from ch and quit: 0 when it received. */
static int recv_or_quit(sp_chan ch, sp_chan quit, int64_t *v)
{
    sp_case cases[2] = { { ch, SP_RECV, v, NULL }, { quit, SP_RECV, NULL, NULL } };
    return sp_select(cases, 2, false);
}

static void select_ponger(void *arg)
{
    pingpong pp = *(const pingpong *)arg;
    int64_t v;
    for (int64_t i = 0; i < pp.rounds; i++) {
        if (recv_or_quit(pp.ping, pp.quit, &v) != 0)
            return;
        v++;
        if (send_or_quit(pp.pong, pp.quit, &v) != 0)
            return;
    }
}

int64_t wl_select_pingpong(int64_t rounds)
{
    pingpong pp = { .rounds = rounds };
    sp_chan_make(&pp.ping, sizeof(int64_t), 0);
    sp_chan_make(&pp.pong, sizeof(int64_t), 0);
    sp_chan_make(&pp.quit, 0, 0);
    sp_go(select_ponger, &pp);
    int64_t v = 0;
    for (int64_t i = 0; i < rounds; i++) {
        if (send_or_quit(pp.ping, pp.quit, &v) != 0 || recv_or_quit(pp.pong, pp.quit, &v) != 0)
            break; /* never: nobody closes quit */
    }
    sp_chan_release(pp.ping);
    sp_chan_release(pp.pong);
    sp_chan_release(pp.quit);
    return v;
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

int64_t wl_ring(int64_t n, int64_t laps)
{
    sp_chan *links = malloc(sizeof *links * (size_t)(n + 1)); /* links[n]: back to the caller */
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
    sp_wg_wait(done); /* members read their argument until they end */
    for (int64_t i = 0; i <= n; i++)
        sp_chan_release(links[i]);
    sp_wg_release(done);
    free(links);
    free(members);
    return token;
}

typedef struct { sp_chan in, out; int64_t prime; } filter_arg;

/* The sieve's goroutines never end while the sieve runs; when its runtime stops,
   its channels are released and their calls fail: a goroutine still running on a
   worker the stop left behind then ends, instead of spinning on failing calls. */
static void generate(void *arg)
{
    sp_chan out = (sp_chan)(uintptr_t)arg;
    for (int64_t i = 2;; i++)
        if (sp_chan_send(out, &i) != SP_OK)
            return;
}

static void filter(void *arg)
{
    /* A copy: the next sieve reuses the array of arguments. */
    filter_arg f = *(const filter_arg *)arg;
    int64_t v;
    for (;;) {
        if (sp_chan_recv(f.in, &v, NULL) != SP_OK)
            return;
        if (v % f.prime != 0 && sp_chan_send(f.out, &v) != SP_OK)
            return;
    }
}

static filter_arg *filters;

void wl_sieve(int64_t count, void (*on_prime)(int64_t index, int64_t prime))
{
    /* The previous sieve's runtime has stopped, and each of its filters copied its
       argument when it started (one that never started was discarded with it). */
    free(filters);
    filters = malloc(sizeof *filters * (size_t)count);
    sp_chan ch;
    sp_chan_make(&ch, sizeof(int64_t), 0);
    sp_go(generate, (void *)(uintptr_t)ch);
    for (int64_t i = 0; i < count; i++) {
        int64_t prime;
        sp_chan_recv(ch, &prime, NULL);
        if (on_prime != NULL)
            on_prime(i, prime);
        filters[i].in = ch;
        filters[i].prime = prime;
        sp_chan_make(&filters[i].out, sizeof(int64_t), 0);
        ch = filters[i].out;
        sp_go(filter, &filters[i]);
    }
}
