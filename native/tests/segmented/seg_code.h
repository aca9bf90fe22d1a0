/* The interface between the segmented-stack tests and their split-stack code. */
#ifndef SPINDLE_SEG_CODE_H
#define SPINDLE_SEG_CODE_H

#include <spindle.h>
#include <stddef.h>
#include <stdint.h>

#define SEG_EXPORT __attribute__((visibility("default")))

enum seg_kind {
    SEG_SMALL_FRAMES = 1,     /* input: depth; result: the sum of marks */
    SEG_KILOBYTE_FRAMES = 2,  /* input: depth */
    SEG_PROBE_AT_DEPTHS = 3,  /* probe at every depth 0..input2 */
    SEG_HOT_SPLIT = 4         /* probe input2 times at depth input */
};

enum seg_probe {
    SEG_PROBE_ARGS = 1,
    SEG_PROBE_BIG_RETURN = 2,
    SEG_PROBE_LONG_DOUBLE = 3,
    SEG_PROBE_VARARGS = 4,
    SEG_PROBE_VLA = 5,        /* input: bytes */
    SEG_PROBE_ALLOCA = 6,     /* input: bytes */
    SEG_PROBE_FORMAT = 7      /* input: the value printed into text */
};

typedef struct seg_job {
    int kind;
    int probe;
    long long input, input2;
    long long result;
    int mismatch_depth;
    size_t deepest_stack;   /* sp_coro_stack_used at the bottom of the recursion */
    size_t stack_after;     /* ... when the entry is about to return (yields there) */
    char text[64];
} seg_job;

typedef struct seg_park {
    sp_chan ch;
    sp_wg done;
} seg_park;

/* A run loop's goroutines (test_run_loop_reuses_finished_stacks): a parent
   spawns SEG_FAMILY children, each a seg_job, then yields until all have
   finished. Each split-stack child notes its coroutine's id and the stack it
   held when it called in; every third child is plain, code that is not
   split-stack. */
enum { SEG_FAMILY = 120 };
#define SEG_FAMILY_PLAIN(i) ((i) % 3 == 2)
typedef struct seg_family {
    sp_fn plain; /* the plain children's entry */
    seg_job jobs[SEG_FAMILY];
    uint64_t coro_ids[SEG_FAMILY];
    size_t stack_at_start[SEG_FAMILY];
    int finished;
    int spawn_errors;
} seg_family;

SEG_EXPORT void seg_entry(void *arg);
SEG_EXPORT void seg_family_parent(void *arg);
SEG_EXPORT void seg_overflow_entry(void *arg);
SEG_EXPORT void seg_bt_entry(void *arg);
SEG_EXPORT void seg_bt_bottom(void);
SEG_EXPORT void seg_park_entry(void *arg);
SEG_EXPORT void seg_systemstack_entry(void *arg);
SEG_EXPORT void seg_spin_entry(void *arg);
SEG_EXPORT void seg_nested_entry(void *arg);
SEG_EXPORT void seg_call_pointer_entry(void *arg);
seg_job *seg_job_now(void);

#endif
