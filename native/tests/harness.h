/* A small scheduler for the native tests of the engine: GOMAXPROCS worker
   threads, each holding one processor for good, that find goroutines (their
   own queue, the global queue, stealing), drive the run loop, and serve the
   few runtime calls the loop hands back; idle ones run the timers of every
   processor. A thread keeps the coarse clock going, as the managed runtime's
   monitor does. It has no monitor that takes processors, no deadlock
   detection and no managed parties: the managed scheduler
   (src/Spindle/Scheduler.cs) is the runtime; this is what lets the same
   engine be tested natively, under ASan and TSan, on AArch64 and Win64. */
#ifndef SPINDLE_TEST_HARNESS_H
#define SPINDLE_TEST_HARNESS_H

#include <spindle.h>
#include <spindle_host.h>

/* Runs main_fn(arg) as the main goroutine on procs processors until it
   returns, then discards the goroutines still parked and releases what they
   made, as a Go program's exit does. Returns 0, or -1 when the harness
   failed (a resume error, an unexpected result: printed). */
int harness_run(sp_fn main_fn, void *arg, int procs);

/* Runs fn(arg) on a new OS thread (a plain thread, outside the runtime) and
   returns a handle for harness_join. */
typedef struct harness_thread harness_thread;
harness_thread *harness_start(void (*fn)(void *), void *arg);
void harness_join(harness_thread *t);

/* Sleeps the calling OS thread for ns nanoseconds. */
void harness_nap(int64_t ns);

#endif
