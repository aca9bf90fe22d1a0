/* Segmented stacks against reserved stacks, same code, same thread:
 *   - per-call cost of a call in a loop, at each depth 0..63: on segments
 *     some depths put the call right across a boundary (the "hot split");
 *     on a reserved stack none does;
 *   - create+run+destroy of a coroutine, each kind.
 * Usage: segment_bench [calls-per-depth]   (prints one line per figure) */
#define _POSIX_C_SOURCE 200809L
#include <spindle.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct hot_split_job { int depth; int64_t calls, result; } hot_split_job;
void hot_split_entry(void *arg);
void nothing_entry(void *arg);

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static sp_coro *make(sp_fn fn, void *arg, int kind)
{
    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.kind = kind;
    sp_coro *co = NULL;
    int err = sp_coro_create(&co, fn, arg, &opts);
    if (err != SP_OK) {
        fprintf(stderr, "segment_bench: sp_coro_create: %s\n", sp_strerror(err));
        exit(1);
    }
    return co;
}

/* Best of three runs, in ns per call. */
static double per_call(int kind, int depth, int64_t calls)
{
    double best = 1e30;
    for (int run = 0; run < 3; run++) {
        hot_split_job job = { depth, calls, 0 };
        sp_coro *co = make(hot_split_entry, &job, kind);
        int64_t t0 = now_ns();
        sp_coro_resume(co);
        double ns = (double)(now_ns() - t0) / (double)calls;
        sp_coro_destroy(co);
        if (ns < best)
            best = ns;
    }
    return best;
}

static double create_run_destroy(int kind, int n)
{
    int64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        sp_coro *co = make(nothing_entry, NULL, kind);
        sp_coro_resume(co);
        sp_coro_destroy(co);
    }
    return (double)(now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
    int64_t calls = argc > 1 ? atoll(argv[1]) : 200000;
    if (!sp_stack_segmented_available()) {
        printf("segment_bench: no segmented stacks on this platform\n");
        return 0;
    }
    double worst_extra = 0, sum_seg = 0, sum_res = 0;
    int worst_depth = 0;
    for (int depth = 0; depth < 64; depth++) {
        double seg = per_call(SP_STACK_SEGMENTED, depth, calls);
        double res = per_call(SP_STACK_RESERVED, depth, calls);
        sum_seg += seg;
        sum_res += res;
        if (seg - res > worst_extra) {
            worst_extra = seg - res;
            worst_depth = depth;
        }
    }
    printf("call_in_loop_reserved_ns %.2f\n", sum_res / 64);
    printf("call_in_loop_segmented_ns %.2f\n", sum_seg / 64);
    printf("hot_split_worst_extra_ns %.2f (depth %d)\n", worst_extra, worst_depth);
    create_run_destroy(SP_STACK_SEGMENTED, 10000); /* warm the pools */
    create_run_destroy(SP_STACK_RESERVED, 10000);
    printf("create_run_destroy_segmented_ns %.1f\n", create_run_destroy(SP_STACK_SEGMENTED, 200000));
    printf("create_run_destroy_reserved_ns %.1f\n", create_run_destroy(SP_STACK_RESERVED, 200000));
    return 0;
}
