/* The switch tracer's internal side (trace.c owns it; spindle_host.h has the
   host's calls and the record format).
 *
 * What it is. Each thread that runs goroutines writes fixed-size records
 * (sp_trace_record) into a batch of its own, with no lock and no locked
 * instruction: who switched to whom and why, when, and how long the switch
 * took in each of its parts. A full batch is published, numbered, to one
 * list the host drains; a thread that finds no free batch drops its records
 * and counts them, and the count travels with its next batch. In
 * flight-recorder mode the oldest published batch is reused instead, so the
 * last N bytes stay in memory until the host asks for them.
 *
 * The clock is the processor's counter (rdtsc on x86-64, cntvct_el0 on
 * AArch64, QueryPerformanceCounter on Windows), read inline; the host turns
 * ticks into nanoseconds with the origin and rate each batch carries.
 *
 * A switch's stamps. A goroutine that gives up its thread stamps when it
 * leaves (sp_trace_leave); the run loop stamps when it is back on the
 * thread's stack, when it decides to return to the host, when it is called
 * again, and right before it resumes the next goroutine; the host stamps on
 * either side of its own work (sp_trace_mark); the goroutine that runs
 * stamps the end where it lands (sp_trace_landed). Every stamp is kept in the
 * thread's state and the record is written once, at the end, so that its
 * parts add up to the whole by construction. A goroutine that lands where no
 * stamp is taken (a runtime call's return, a first run) gets its record at
 * the thread's next trace call, with the restore half untimed.
 *
 * One read of the counter costs about a third of a direct switch on the
 * machines measured, so a direct switch is timed one time in about
 * SP_TRACE_TIME_EVERY (16), at random: the others read the counter once,
 * where the next goroutine lands, and carry their end alone
 * (SP_TRACE_F_UNTIMED). Every switch is recorded; the costs come from a
 * random sample of them. A switch through the loop or the host reads the
 * counter at each of its boundaries always (an untimed leave that goes to
 * the loop after all stamps there, sp_trace_to_loop).
 *
 * Off, the switch path pays one load and one predictable branch
 * (sp_tracing()); built with SPINDLE_TRACE=0 it pays nothing. */
#ifndef SPINDLE_TRACE_H
#define SPINDLE_TRACE_H

#include "coro_internal.h"
#include "spindle_host.h"

#if !defined(SPINDLE_TRACE)
#  define SPINDLE_TRACE 1
#endif

/* Nonzero while a trace is being recorded (trace.c). */
extern SP_HIDDEN int32_t sp_trace_active;
#if SPINDLE_TRACE
static inline int sp_tracing(void) { return SP_UNLIKELY(__atomic_load_n(&sp_trace_active, __ATOMIC_RELAXED) != 0); }
#else
static inline int sp_tracing(void) { return 0; }
#endif

#if defined(_WIN32)
SP_HIDDEN uint64_t sp_trace_ticks_windows(void);
#endif

/* The processor's counter: what records are stamped with. */
static inline uint64_t sp_trace_ticks(void)
{
#if defined(_WIN32)
    return sp_trace_ticks_windows();
#elif defined(__x86_64__)
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
#else
    return (uint64_t)sp_clock_now();
#endif
}

/* The goroutine that is leaving its thread stamps it (id may be 0 when the
   caller does not know it: the loop fills it in). */
SP_HIDDEN void sp_trace_leave(int64_t from, int32_t why, int32_t wait_reason);
/* The goroutine that left is about to switch to the thread's loop, not
   straight to the next one. */
SP_HIDDEN void sp_trace_to_loop(void);
/* Back on the thread's stack after from's coroutine switched out. */
SP_HIDDEN void sp_trace_back_in_loop(int64_t from, int32_t why, int32_t wait_reason);
/* The loop returns to its caller (the host). */
SP_HIDDEN void sp_trace_decided(void);
/* The loop was entered again (sp_runq_run). */
SP_HIDDEN void sp_trace_loop_entered(void);
/* About to resume to (direct: by a direct switch from inside a goroutine,
   which lands in leave(): not stamped; else stamped). */
SP_HIDDEN void sp_trace_resuming(int64_t to, int direct);
/* The resumed goroutine runs: the switch's record is written. */
SP_HIDDEN void sp_trace_landed(void);
/* One record of kind about a and b (not a switch). */
SP_HIDDEN void sp_trace_event(int32_t kind, int64_t a, int64_t b, int32_t why, int32_t wait_reason);
/* The object (a handle) the calling goroutine is about to park on: its
   SP_TRACE_BLOCK record names it. */
SP_HIDDEN void sp_trace_blocked_on(uint64_t object);
/* g was made runnable by whoever runs on this thread (run_loop.c, which
   knows who that is). */
SP_HIDDEN void sp_trace_unblock(sp_g *g);

#endif
