/* Goroutine code built with -fsplit-stack (spindle_add_goroutine_library):
   what the segmented-stack tests run on 2 KiB segments. Each entry takes a
   seg_job and leaves its answer there. */
#include "seg_code.h"

#include <spindle.h>
#include <alloca.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline, noipa))

/* A direct call into libspindle (code that is not split-stack): the linker
   makes this function, and only this one, ask for 16 KiB more room. */
static NOINLINE void record_depth(void)
{
    seg_job_now()->deepest_stack = sp_coro_stack_used(sp_coro_self());
}

/* The volatile read after the call keeps every frame alive (no loop or
   accumulator rewrite of the recursion). */
static NOINLINE long long small_frames(long long n)
{
    volatile char mark = (char)(n & 0x7f);
    if (n == 0) {
        record_depth();
        return 0;
    }
    long long below = small_frames(n - 1);
    return below + mark;
}

static NOINLINE long long kilobyte_frames(long long n)
{
    volatile char frame[1024];
    frame[0] = (char)(n & 0x7f);
    frame[1023] = frame[0];
    if (n == 0)
        return 0;
    long long below = kilobyte_frames(n - 1);
    return below + frame[1023];
}

/* Ten integers and ten doubles: four and two of them go on the stack. */
static NOINLINE double many_args(long a, long b, long c, long d, long e, long f, long g, long h,
                                 long i, long j, double x1, double x2, double x3, double x4,
                                 double x5, double x6, double x7, double x8, double x9,
                                 double x10)
{
    return (double)(a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j) +
           x1 + 2 * x2 + 3 * x3 + 4 * x4 + 5 * x5 + 6 * x6 + 7 * x7 + 8 * x8 + 9 * x9 + 10 * x10;
}

typedef struct big_value { long v[8]; } big_value;

/* Returned through memory the caller owns (on the segment before). */
static NOINLINE big_value make_big(long seed)
{
    big_value r;
    for (int i = 0; i < 8; i++)
        r.v[i] = seed * (i + 1);
    return r;
}

/* Returned in st0 (x87), across the way back of __morestack. */
static NOINLINE long double scaled(long double x) { return x * 3.0L; }

#if !defined(__clang__) /* clang refuses variadic functions under -fsplit-stack */
static NOINLINE long long va_sum(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    long long s = 0;
    for (int i = 0; i < n; i++)
        s += va_arg(ap, long long) * (i + 1);
    va_end(ap);
    return s;
}
#endif

static NOINLINE int vla_sum(int n)
{
    char buf[n];
    memset(buf, 3, (size_t)n);
    int s = 0;
    for (int i = 0; i < n; i++)
        s += buf[i];
    return s;
}

static NOINLINE int alloca_sum(int n)
{
    char *buf = alloca((size_t)n);
    memset(buf, 5, (size_t)n);
    int s = 0;
    for (int i = 0; i < n; i++)
        s += buf[i];
    return s;
}

static NOINLINE int format(char *out, size_t cap, int v)
{
    return snprintf(out, cap, "value=%d pi=%.3f", v, 3.14159);
}

/* Calls probe at depth levels below here: over a range of depths, some
   call lands right at a segment boundary. */
typedef long long (*probe_fn)(seg_job *job);

static NOINLINE long long at_depth(int depth, probe_fn probe, seg_job *job)
{
    volatile char pad[48];
    pad[0] = (char)depth;
    if (depth == 0)
        return probe(job);
    long long r = at_depth(depth - 1, probe, job);
    return r + pad[0] - (char)depth;
}

static long long probe_args(seg_job *job)
{
    (void)job;
    return (long long)many_args(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5,
                                7.5, 8.5, 9.5);
}

static long long probe_big(seg_job *job)
{
    big_value r = make_big(job->input);
    long long s = 0;
    for (int i = 0; i < 8; i++)
        s += r.v[i];
    return s;
}

static long long probe_long_double(seg_job *job)
{
    return (long long)scaled((long double)job->input + 0.25L);
}

#if !defined(__clang__)
static long long probe_varargs(seg_job *job)
{
    (void)job;
    return va_sum(12, 1LL, 2LL, 3LL, 4LL, 5LL, 6LL, 7LL, 8LL, 9LL, 10LL, 11LL, 12LL);
}
#endif

static long long probe_vla(seg_job *job) { return vla_sum((int)job->input); }
static long long probe_alloca(seg_job *job) { return alloca_sum((int)job->input); }

static long long probe_format(seg_job *job)
{
    return format(job->text, sizeof job->text, (int)job->input);
}

static probe_fn probe_for(int which)
{
    switch (which) {
    case SEG_PROBE_ARGS: return probe_args;
    case SEG_PROBE_BIG_RETURN: return probe_big;
    case SEG_PROBE_LONG_DOUBLE: return probe_long_double;
#if !defined(__clang__)
    case SEG_PROBE_VARARGS: return probe_varargs;
#endif
    case SEG_PROBE_VLA: return probe_vla;
    case SEG_PROBE_ALLOCA: return probe_alloca;
    case SEG_PROBE_FORMAT: return probe_format;
    default: return NULL;
    }
}

static seg_job *current_job; /* the tests run one coroutine at a time */
seg_job *seg_job_now(void) { return current_job; }

/* The job's work, leaving its answer in job. */
static void work(seg_job *job)
{
    current_job = job;
    switch (job->kind) {
    case SEG_SMALL_FRAMES: job->result = small_frames(job->input); break;
    case SEG_KILOBYTE_FRAMES: job->result = kilobyte_frames(job->input); break;
    case SEG_PROBE_AT_DEPTHS: {
        /* Every depth from 0 to input: results must all agree. */
        probe_fn probe = probe_for((int)job->probe);
        job->result = at_depth(0, probe, job);
        for (int d = 1; d <= job->input2; d++) {
            long long r = at_depth(d, probe, job);
            if (r != job->result) {
                job->mismatch_depth = d;
                break;
            }
        }
        break;
    }
    case SEG_HOT_SPLIT: {
        /* One call, many times, from the same depth. */
        probe_fn probe = probe_for((int)job->probe);
        long long sum = 0;
        for (long long i = 0; i < job->input2; i++)
            sum += at_depth((int)job->input, probe, job);
        job->result = sum;
        break;
    }
    default: job->result = -1;
    }
}

SEG_EXPORT void seg_entry(void *arg)
{
    work(arg);
    /* The test reads the stack held now (a direct call into libspindle
       here would make this frame ask for 16 KiB more). */
    sp_coro_yield();
}

void seg_bt_bottom_wrapper(void *unused);

/* sp_systemstack: a 64 KiB frame runs on the thread's stack, not on segments. */
static NOINLINE void big_frame(void *arg)
{
    volatile char frame[64 * 1024];
    for (size_t i = 0; i < sizeof frame; i += 512)
        frame[i] = (char)i;
    long long s = 0;
    for (size_t i = 0; i < sizeof frame; i += 512)
        s += frame[i];
    seg_job *job = arg;
    job->result = s;
    /* Nested: already on the thread's stack, so it runs in place. */
    job->mismatch_depth = sp_systemstack(seg_bt_bottom_wrapper, NULL);
}

SEG_EXPORT void seg_systemstack_entry(void *arg)
{
    seg_job *job = arg;
    job->input2 = sp_systemstack(big_frame, job);
    sp_coro_yield(); /* the test reads the segments held while on this one */
}

/* Spins on a 2 KiB segment, 100 frames down, until a signal handler sets *flag. */
static NOINLINE int spin_deep(volatile int *flag, int n)
{
    volatile char frame[64];
    frame[0] = (char)n;
    if (n > 0)
        return spin_deep(flag, n - 1) + frame[0];
    while (!*flag) {
    }
    return 0;
}

SEG_EXPORT void seg_spin_entry(void *arg) { spin_deep(arg, 100); }

/* A segmented coroutine that resumes another: the inner one grows its segments
   on the thread's stack below the outer one's resumer. */
static void inner_deep(void *arg)
{
    seg_job *job = arg;
    job->result = small_frames(job->input);
}

SEG_EXPORT void seg_nested_entry(void *arg)
{
    seg_job *job = arg;
    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.kind = SP_STACK_SEGMENTED;
    sp_coro *inner = NULL;
    job->input2 = sp_coro_create(&inner, inner_deep, job, &opts);
    if (inner == NULL)
        return;
    job->mismatch_depth = sp_coro_resume(inner);
    sp_coro_destroy(inner);
}

/* Calls arg (code that is not split-stack) through a pointer, which the linker
   cannot see, then parks: the reserve-overrun death test. */
SEG_EXPORT void seg_call_pointer_entry(void *arg)
{
    void (*fn)(void *) = (void (*)(void *))arg;
    fn(NULL);
    sp_request req = { .op = 1 }; /* no memset call: this frame must stay on 2 KiB */
    sp_coro_request(&req);
}

/* Recurses without end: the death test. */
static NOINLINE long long forever(long long n)
{
    volatile char frame[256];
    frame[0] = (char)n;
    return forever(n + 1) + frame[0];
}

SEG_EXPORT void seg_overflow_entry(void *arg)
{
    (void)arg;
    forever(0);
}

/* The debugger test: a breakpoint on seg_bt_bottom, 500 frames down. */
SEG_EXPORT NOINLINE void seg_bt_bottom(void) { __asm__ volatile("" ::: "memory"); }
void seg_bt_bottom_wrapper(void *unused) { (void)unused; seg_bt_bottom(); }

static NOINLINE int seg_bt_descend(int n)
{
    volatile char frame[200];
    frame[0] = (char)n;
    if (n == 0) {
        seg_bt_bottom();
        return 0;
    }
    return seg_bt_descend(n - 1) + frame[0];
}

SEG_EXPORT void seg_bt_entry(void *arg)
{
    *(int *)arg = seg_bt_descend(500);
}

/* Parks in a channel receive: the parked-memory measurement. */
SEG_EXPORT void seg_park_entry(void *arg)
{
    seg_park *park = arg;
    int v = 0;
    sp_chan_recv(park->ch, &v, NULL);
    sp_wg_done(park->done);
}

static seg_family *family_now;

/* Its first call into libspindle, like record_depth's, takes a segment of
   16 KiB or more: every child should hold the same stack here. */
static NOINLINE void note_start(size_t i)
{
    family_now->coro_ids[i] = sp_coro_id(sp_coro_self());
    family_now->stack_at_start[i] = sp_coro_stack_used(sp_coro_self());
}

static void family_child(void *arg)
{
    seg_job *job = arg;
    note_start((size_t)(job - family_now->jobs));
    if (job->kind == 0)
        job->input2 = sp_systemstack(big_frame, job);
    else
        work(job);
    family_now->finished++; /* and returns without a yield: the next child starts on its stack */
}

SEG_EXPORT void seg_family_parent(void *arg)
{
    seg_family *f = arg;
    family_now = f;
    for (int i = 0; i < SEG_FAMILY; i++)
        f->spawn_errors += sp_go(SEG_FAMILY_PLAIN(i) ? f->plain : family_child, &f->jobs[i]) != SP_OK;
    while (f->finished < SEG_FAMILY)
        sp_gosched();
}
