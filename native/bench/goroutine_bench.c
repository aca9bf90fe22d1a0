/* Native goroutine programs that bench/Spindle.Benchmarks measures, the same work as
   bench/go/main.go does in Go. Each takes an int64_t count as its argument. */
#define _POSIX_C_SOURCE 200809L
#include "goroutine_program.h"
#include "channel_workloads.h"

/* Two goroutines on one P yield to each other `rounds` times each (2 x rounds
   switches) while main waits, as Go's yieldPair does. */
EXPORT void bench_yield_pair(void *arg) { wl_yield_pair((int64_t)(intptr_t)arg); }

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

/* ---- channels: the same programs as bench/go/main.go's pingPong, selectPingPong,
   ring and sieve. */

/* `rounds` round trips over two unbuffered channels. */
EXPORT void bench_chan_pingpong(void *arg) { wl_pingpong((int64_t)(intptr_t)arg); }

/* `rounds` round trips, each send and receive a select over two channels. */
EXPORT void bench_select_pingpong(void *arg) { wl_select_pingpong((int64_t)(intptr_t)arg); }

/* A token goes 100 times around a ring of `n` goroutines (100 x n hops). Go's
   ring times only its 10 laps; here building the ring (n spawns, n + 1 channels)
   is inside the measurement, so it is spread over 100 laps. */
EXPORT void bench_chan_ring(void *arg) { wl_ring((int64_t)(intptr_t)arg, 100); }

/* The concurrent prime sieve to the `count`th prime. */
EXPORT void bench_sieve(void *arg) { wl_sieve((int64_t)(intptr_t)arg, NULL); }
