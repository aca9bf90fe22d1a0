/* What every goroutine program in this repository (demos, test programs, benchmark
   programs) needs besides spindle.h: exporting its entries and a monotonic clock.
   Include it after defining _POSIX_C_SOURCE. */
#ifndef SPINDLE_GOROUTINE_PROGRAM_H
#define SPINDLE_GOROUTINE_PROGRAM_H

#include <spindle.h>
#include <stdint.h>
#include <time.h>

#if defined(_WIN32)
#  define EXPORT __declspec(dllexport)
#else
#  define EXPORT __attribute__((visibility("default")))
#endif

/* CLOCK_MONOTONIC in nanoseconds: the clock Spindle's timer channels report. */
static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
