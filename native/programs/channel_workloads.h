/* The goroutine programs that both the demos (which print) and the benchmark programs
   (which bench/go/main.go mirrors in Go) run: channels, and the yield pair they are
   measured against. Call them from a goroutine. */
#ifndef SPINDLE_CHANNEL_WORKLOADS_H
#define SPINDLE_CHANNEL_WORKLOADS_H

#include <stdint.h>

/* Two goroutines yield to each other `rounds` times each (2 x rounds switches)
   while the caller waits, as Go's yieldPair does. */
void wl_yield_pair(int64_t rounds);

/* Two goroutines send a counter back and forth `rounds` times over two unbuffered
   channels; returns the counter (each round trip adds one). */
int64_t wl_pingpong(int64_t rounds);

/* The same round trips, every send and receive a select over two channels: the
   one the value travels on and a quit channel that is never ready (Go's usual
   shape of a loop that can be stopped). Returns the counter. */
int64_t wl_select_pingpong(int64_t rounds);

/* A token goes `laps` times around a ring of `n` goroutines, each with its own
   unbuffered channel, and back to the caller after each lap; returns the hops made. */
int64_t wl_ring(int64_t n, int64_t laps);

/* The concurrent prime sieve to the `count`th prime: a generator and a filter goroutine
   per prime, each with its own channel. on_prime (may be NULL) sees each prime in order.
   As in Go, the goroutines stay parked when it returns; the next call frees their
   arguments, so call it once per runtime. */
void wl_sieve(int64_t count, void (*on_prime)(int64_t index, int64_t prime));

#endif
