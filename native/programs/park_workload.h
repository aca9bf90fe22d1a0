/* Parked goroutines and the memory they hold: run by the tests (which check it),
   the `park` demo (which prints it) and, in Go, by bench/go/main.go. Call it from
   a goroutine. */
#ifndef SPINDLE_PARK_WORKLOAD_H
#define SPINDLE_PARK_WORKLOAD_H

#include <stdint.h>

typedef struct wl_park_result {
    int64_t resident_before;  /* bytes resident before the goroutines start */
    int64_t resident_parked;  /* ... once all of them are parked */
    int64_t woken;            /* how many woke when the channel closed */
} wl_park_result;

/* Starts n goroutines that park in a receive on one unbuffered channel,
   measures resident memory once all are parked, then closes the channel and
   waits for every one of them. Returns the number of runtime calls that failed. */
int64_t wl_park(int64_t n, wl_park_result *out);

#endif
