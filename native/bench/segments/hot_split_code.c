/* Split-stack code for segment_bench: a leaf called in a loop from a chosen
   depth, so that over a range of depths some calls cross a segment boundary. */
#include <stdint.h>

#define NOINLINE __attribute__((noinline, noipa))
#define EXPORT __attribute__((visibility("default")))

static NOINLINE int64_t leaf(int64_t x)
{
    volatile char frame[64];
    frame[0] = (char)x;
    return x + frame[0];
}

static NOINLINE int64_t loop_at(int depth, int64_t calls)
{
    volatile char pad[48];
    pad[0] = (char)depth;
    if (depth > 0)
        return loop_at(depth - 1, calls) + pad[0] - (char)depth;
    int64_t sum = 0;
    for (int64_t i = 0; i < calls; i++)
        sum += leaf(i);
    return sum;
}

typedef struct hot_split_job { int depth; int64_t calls, result; } hot_split_job;

EXPORT void hot_split_entry(void *arg)
{
    hot_split_job *job = arg;
    job->result = loop_at(job->depth, job->calls);
}

EXPORT void nothing_entry(void *arg) { (void)arg; }
