/* Segmented stacks (x86-64 Linux): split-stack code from seg_code.c runs on
   2 KiB segments that grow and shrink; results must be exactly right at any
   depth, across every segment boundary.
   Modes: no argument runs the checks; "overflow" and "overrun" are death
   tests; "bt" is the gdb target. */
#include "../check.h"
#include "seg_code.h"
#include <spindle_host.h>

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

/* The split-stack limit slot of the calling thread (glibc's TCB, %fs:0x70). */
static uintptr_t thread_stack_limit(void)
{
    uintptr_t limit;
    __asm__ volatile("movq %%fs:0x70, %0" : "=r"(limit));
    return limit;
}

static sp_coro *segmented(sp_fn fn, void *arg, size_t max_stack)
{
    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.kind = SP_STACK_SEGMENTED;
    opts.max_stack = max_stack;
    sp_coro *co = NULL;
    int err = sp_coro_create(&co, fn, arg, &opts);
    CHECK_EQ(err, SP_OK);
    return co;
}

static seg_job run_job(int kind, int probe, long long input, long long input2)
{
    seg_job job;
    memset(&job, 0, sizeof job);
    job.kind = kind;
    job.probe = probe;
    job.input = input;
    job.input2 = input2;
    sp_coro *co = segmented(seg_entry, &job, 0);
    if (co == NULL)
        return job;
    CHECK_EQ(sp_coro_stack_kind(co), SP_STACK_SEGMENTED);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_SUSPENDED);
    /* Back on the thread: its limit slot is its own again (zero: no segments). */
    CHECK_EQ(thread_stack_limit(), 0);
    job.stack_after = sp_coro_stack_used(co);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK_EQ(thread_stack_limit(), 0);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
    return job;
}

static long long marks(long long n)
{
    long long s = 0;
    for (long long i = 1; i <= n; i++)
        s += (char)(i & 0x7f);
    return s;
}

static void test_deep_small_frames(void)
{
    seg_job job = run_job(SEG_SMALL_FRAMES, 0, 100000, 0);
    CHECK_EQ(job.result, marks(100000));
    /* 100,000 frames of at least 16 bytes ran on segments, not on 2 KiB. */
    CHECK(job.deepest_stack >= (size_t)100000 * 16);
    /* On the way back all but one kept segment were given back. */
    CHECK(job.stack_after <= 2 * 2048);
    /* ... and the frames took about 2 KiB segments: no more than twice the
       bytes the frames need (at most 48 per frame here), plus the 16 KiB+
       segment of the libspindle call at the bottom. */
    CHECK(job.deepest_stack <= (size_t)100000 * 48 * 2 + 64 * 1024);
    printf("100,000 frames: %zu bytes of segments at the bottom, %zu after\n", job.deepest_stack,
           job.stack_after);
}

static void test_kilobyte_frames(void)
{
    seg_job job = run_job(SEG_KILOBYTE_FRAMES, 0, 1000, 0);
    long long expect = 0;
    for (long long i = 1; i <= 1000; i++)
        expect += (char)(i & 0x7f);
    CHECK_EQ(job.result, expect);
}

static void test_stack_arguments(void)
{
    seg_job job = run_job(SEG_PROBE_AT_DEPTHS, SEG_PROBE_ARGS, 0, 200);
    CHECK_EQ(job.mismatch_depth, 0);
    /* sum of k * k plus sum of k * (k - 0.5), k = 1..10 */
    CHECK_EQ(job.result, 742);
}

static void test_big_return(void)
{
    seg_job job = run_job(SEG_PROBE_AT_DEPTHS, SEG_PROBE_BIG_RETURN, 7, 200);
    CHECK_EQ(job.mismatch_depth, 0);
    CHECK_EQ(job.result, 7 * 36);
}

static void test_long_double_return(void)
{
    seg_job job = run_job(SEG_PROBE_AT_DEPTHS, SEG_PROBE_LONG_DOUBLE, 5, 200);
    CHECK_EQ(job.mismatch_depth, 0);
    CHECK_EQ(job.result, 15); /* (5 + 0.25) * 3 = 15.75 */
}

static void test_varargs(void)
{
#if !defined(__clang__)
    seg_job job = run_job(SEG_PROBE_AT_DEPTHS, SEG_PROBE_VARARGS, 0, 200);
    CHECK_EQ(job.mismatch_depth, 0);
    CHECK_EQ(job.result, 650); /* sum of i * i for i = 1..12 */
#endif
}

static void test_vla_across_boundary(void)
{
    seg_job job = run_job(SEG_PROBE_AT_DEPTHS, SEG_PROBE_VLA, 3000, 100);
    CHECK_EQ(job.mismatch_depth, 0);
    CHECK_EQ(job.result, 3 * 3000);
    job = run_job(SEG_PROBE_AT_DEPTHS, SEG_PROBE_VLA, 100, 100);
    CHECK_EQ(job.mismatch_depth, 0);
    CHECK_EQ(job.result, 3 * 100);
}

static void test_alloca_across_boundary(void)
{
    seg_job job = run_job(SEG_PROBE_AT_DEPTHS, SEG_PROBE_ALLOCA, 5000, 100);
    CHECK_EQ(job.mismatch_depth, 0);
    CHECK_EQ(job.result, 5 * 5000);
}

static void test_snprintf_on_a_segment(void)
{
    seg_job job = run_job(SEG_PROBE_AT_DEPTHS, SEG_PROBE_FORMAT, 42, 100);
    CHECK_EQ(job.mismatch_depth, 0);
    CHECK(strcmp(job.text, "value=42 pi=3.142") == 0);
    CHECK_EQ(job.result, (long long)strlen("value=42 pi=3.142"));
}

static void test_hot_split(void)
{
    /* The same call 2,000 times from each of 40 depths: some sit on a boundary. */
    for (int depth = 0; depth < 40; depth++) {
        seg_job job = run_job(SEG_HOT_SPLIT, SEG_PROBE_BIG_RETURN, depth, 2000);
        CHECK_EQ(job.result, 2000LL * (depth * 36));
    }
}

static void test_first_segment_is_small(void)
{
    seg_job job;
    memset(&job, 0, sizeof job);
    sp_coro *co = segmented(seg_entry, &job, 0);
    CHECK_EQ(sp_coro_stack_used(co), 2048);
    CHECK_EQ(sp_coro_stack_max(co), SP_DEFAULT_MAX_SEGMENTED);
    sp_coro_destroy(co);
}

static void not_split(void *arg) { (void)arg; }

static void test_non_split_entry(void)
{
    /* This executable is not split-stack: no segment for its functions. */
    CHECK_EQ(sp_is_split_stack(not_split), 0);
    CHECK_EQ(sp_is_split_stack(seg_entry), 1);
    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.kind = SP_STACK_SEGMENTED;
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, not_split, NULL, &opts), SP_ENOTSPLIT);
    CHECK(co == NULL);
    opts.kind = SP_STACK_DEFAULT;
    CHECK_EQ(sp_coro_create(&co, not_split, NULL, &opts), SP_OK);
    CHECK_EQ(sp_coro_stack_kind(co), SP_STACK_RESERVED);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    sp_coro_destroy(co);
    CHECK_EQ(sp_coro_create(&co, seg_entry, NULL, NULL), SP_OK);
    CHECK_EQ(sp_coro_stack_kind(co), SP_STACK_SEGMENTED);
    sp_coro_destroy(co);
    CHECK(strstr(sp_strerror(SP_ENOTSPLIT), "-fsplit-stack") != NULL);
}

static void test_many_coroutines_reuse_segments(void)
{
    enum { N = 2000 };
    static sp_coro *cos[N];
    static seg_job jobs[N];
    for (int i = 0; i < N; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].kind = SEG_SMALL_FRAMES;
        jobs[i].input = 200 + i % 50;
        cos[i] = segmented(seg_entry, &jobs[i], 0);
    }
    for (int i = 0; i < N; i++) {
        CHECK_EQ(sp_coro_resume(cos[i]), SP_CORO_SUSPENDED);
        CHECK_EQ(sp_coro_resume(cos[i]), SP_CORO_DONE);
    }
    for (int i = 0; i < N; i++) {
        CHECK_EQ(jobs[i].result, marks(jobs[i].input));
        CHECK_EQ(sp_coro_destroy(cos[i]), SP_OK);
    }
}

static void test_systemstack(void)
{
    seg_job job;
    memset(&job, 0, sizeof job);
    job.mismatch_depth = -1;
    sp_coro *co = segmented(seg_systemstack_entry, &job, 0);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_SUSPENDED);
    long long expect = 0;
    for (int i = 0; i < 64 * 1024; i += 512)
        expect += (char)i;
    CHECK_EQ(job.input2, SP_OK);
    CHECK_EQ(job.result, expect);
    CHECK_EQ(job.mismatch_depth, SP_OK); /* the nested call */
    /* The 64 KiB frame never took a segment. */
    CHECK(sp_coro_stack_used(co) <= 2 * 2048);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    sp_coro_destroy(co);
    CHECK_EQ(sp_systemstack(NULL, NULL), SP_EINVAL);
}

static void test_nested_coroutines(void)
{
    seg_job job;
    memset(&job, 0, sizeof job);
    job.input = 20000;
    sp_coro *outer = segmented(seg_nested_entry, &job, 0);
    CHECK_EQ(sp_coro_resume(outer), SP_CORO_DONE);
    sp_coro_destroy(outer);
    CHECK_EQ(job.input2, SP_OK);
    CHECK_EQ(job.mismatch_depth, SP_CORO_DONE);
    CHECK_EQ(job.result, marks(20000));
}

/* A run loop (run_loop.c) starts a fresh goroutine on the stack of the one
   that just finished. Children that leave that stack deep in segments, with
   a large segment, with heap blocks of an alloca, or after sp_systemstack
   must each start on a stack as new as the first child's, with a coroutine
   of their own, and compute the right answer. The plain children between
   them, spawned by the same loop, must get reserved stacks. */
#define ENTERED (((int64_t)3 << 8) | SP_P_IN_GOROUTINE)

static long long big_frame_sum(void)
{
    long long s = 0;
    for (int i = 0; i < 64 * 1024; i += 512)
        s += (char)i;
    return s;
}

static seg_family f;

static void plain_child(void *arg)
{
    seg_job *job = arg;
    job->result = sp_coro_stack_kind(sp_coro_self());
    f.finished++;
}

static void test_run_loop_reuses_finished_stacks(void)
{
    memset(&f, 0, sizeof f);
    f.plain = plain_child;
    for (int i = 0; i < SEG_FAMILY; i++) {
        seg_job *job = &f.jobs[i];
        switch (i % 5) {
        case 0: job->kind = SEG_SMALL_FRAMES, job->input = 3000; break;
        case 1: job->kind = SEG_KILOBYTE_FRAMES, job->input = 40; break;
        case 2: job->kind = SEG_PROBE_AT_DEPTHS, job->probe = SEG_PROBE_ALLOCA, job->input = 5000, job->input2 = 20; break;
        case 3: job->kind = SEG_PROBE_AT_DEPTHS, job->probe = SEG_PROBE_FORMAT, job->input = i, job->input2 = 20; break;
        default: job->kind = 0, job->mismatch_depth = -1; break; /* seg_systemstack_entry */
        }
    }
    sp_sched *s = NULL;
    CHECK_EQ(sp_sched_create(&s, SP_STACK_DEFAULT, 0), SP_OK);
    sp_runq *q = NULL;
    CHECK_EQ(sp_runq_create(&q), SP_OK);
    CHECK_EQ(sp_runq_attach(q, s), SP_OK);
    *sp_runq_status(q) = ENTERED;
    sp_g *main_g = sp_sched_new_g(s, q);
    CHECK_EQ(sp_g_init_native(s, main_g, seg_family_parent, &f), SP_OK);
    main_g->flags |= SP_G_EXIT_TO_SCHEDULER;
    sp_runq_put(q, main_g, true);
    /* The scheduler's part: goroutines the loop hands back go back in the
       queue, and the parent is finished here. */
    for (sp_g *g; (g = sp_runq_get(q)) != NULL || (g = sp_sched_global_pop(s)) != NULL;) {
        sp_run_result r;
        CHECK_EQ(sp_runq_run(q, g, ENTERED, 1000, &r), SP_OK);
        *sp_runq_status(q) = ENTERED;
        if (r.status == SP_CORO_DONE) {
            CHECK(r.g == main_g);
            CHECK_EQ(sp_coro_destroy(r.g->coro), SP_OK);
            sp_sched_free_g(s, q, r.g);
        } else if (r.g != NULL) {
            sp_request *req = sp_coro_pending(r.g->coro);
            CHECK(req == NULL || req->op == SP_OP_GOSCHED); /* the loop spawned and finished the rest */
            if (req != NULL)
                req->result = SP_OK;
            sp_runq_put_spill(q, s, r.g, false);
        }
    }
    CHECK_EQ(f.spawn_errors, 0);
    CHECK_EQ(f.finished, SEG_FAMILY);
    for (int i = 0; i < SEG_FAMILY; i++) {
        const seg_job *job = &f.jobs[i];
        if (SEG_FAMILY_PLAIN(i)) {
            CHECK_EQ(job->result, SP_STACK_RESERVED);
            continue;
        }
        switch (i % 5) {
        case 0: CHECK_EQ(job->result, marks(3000)); break;
        case 1: CHECK_EQ(job->result, marks(40)); break;
        case 2:
            CHECK_EQ(job->mismatch_depth, 0);
            CHECK_EQ(job->result, 5 * 5000);
            break;
        case 3:
            CHECK_EQ(job->mismatch_depth, 0);
            CHECK_EQ(job->result, (long long)strlen(job->text));
            break;
        default:
            CHECK_EQ(job->input2, SP_OK);
            CHECK_EQ(job->result, big_frame_sum());
            CHECK_EQ(job->mismatch_depth, SP_OK);
        }
        CHECK_EQ(f.stack_at_start[i], f.stack_at_start[0]);
        for (int k = 0; k < i; k++)
            CHECK(SEG_FAMILY_PLAIN(k) || f.coro_ids[k] != f.coro_ids[i]);
    }
    CHECK_EQ(sp_sched_live(s), 0);
    for (int64_t i = 0; i < sp_sched_records(s); i++)
        CHECK_EQ(sp_sched_record(s, i)->state, SP_G_DEAD);
    sp_runq_destroy(q);
    sp_sched_destroy(s);
}

static volatile int signal_seen;
static volatile int handled_on_altstack;

static volatile uintptr_t handler_frame;

static void on_usr1(int sig)
{
    (void)sig;
    volatile char here;
    handler_frame = (uintptr_t)&here;
    stack_t ss;
    handled_on_altstack = sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK) != 0;
    signal_seen = 1;
}

static volatile int plain_thread_saw_signal, plain_thread_handler_below_caller;

static void *plain_thread_signal(void *unused)
{
    (void)unused;
    static char small_altstack[64 * 1024]; /* room for any CPU's signal frame */
    stack_t ss = { .ss_sp = small_altstack, .ss_size = sizeof small_altstack, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    signal_seen = 0;
    volatile char caller;
    raise(SIGUSR1);
    uintptr_t frame = handler_frame, here = (uintptr_t)&caller;
    plain_thread_saw_signal = signal_seen;
    plain_thread_handler_below_caller = frame < here && here - frame < 64 * 1024;
    stack_t off = { .ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE };
    sigaltstack(&off, NULL);
    return NULL;
}

static void *send_usr1(void *target)
{
    struct timespec pause = { 0, 20 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    pthread_kill(*(pthread_t *)target, SIGUSR1);
    return NULL;
}

static void test_foreign_handler_moves_off_the_segment(void)
{
    /* A handler installed without SA_ONSTACK (as the .NET runtime installs some). */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old);
    CHECK(sp_signal_handlers_onstack() >= 1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    CHECK((now.sa_flags & SA_ONSTACK) != 0);
    CHECK_EQ(sp_signal_handlers_onstack(), 0); /* nothing left to change */

    /* Delivered while a coroutine spins on a segment: handled on the alternate stack. */
    signal_seen = 0;
    sp_coro *co = segmented(seg_spin_entry, (void *)&signal_seen, 0);
    pthread_t self = pthread_self(), sender;
    pthread_create(&sender, NULL, send_usr1, &self);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    pthread_join(sender, NULL);
    sp_coro_destroy(co);
    CHECK(signal_seen);
    CHECK(handled_on_altstack);

    /* On a thread that never ran a coroutine, with an alternate stack of its
       own (as .NET gives its threads): handled on the thread's stack, as if the
       handler had no SA_ONSTACK, since it was never written for that stack. */
    pthread_t plain;
    pthread_create(&plain, NULL, plain_thread_signal, NULL);
    pthread_join(plain, NULL);
    CHECK(plain_thread_saw_signal);
    CHECK(!handled_on_altstack);
    CHECK(plain_thread_handler_below_caller);
    sigaction(SIGUSR1, &old, NULL);
}

static int bt_target(void)
{
    int value = -1;
    sp_coro *co = segmented(seg_bt_entry, &value, 0);
    int state = sp_coro_resume(co);
    sp_coro_destroy(co);
    return state == SP_CORO_DONE ? 0 : 1;
}

static int overflow(void)
{
    sp_coro *co = segmented(seg_overflow_entry, NULL, 64 * 1024);
    fprintf(stderr, "overflowing coroutine %llu with a limit of %zu bytes\n",
            (unsigned long long)sp_coro_id(co), sp_coro_stack_max(co));
    fflush(stderr);
    sp_coro_resume(co);
    fprintf(stderr, "UNREACHABLE: the overflow was not caught\n");
    return 1;
}

/* Not split-stack: 3 KiB of frame, far past a segment's 512-byte reserve. */
static __attribute__((noinline)) void greedy(void *unused)
{
    (void)unused;
    volatile char frame[3072];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = 0x5a;
}

static int overrun(void)
{
    sp_coro *co = segmented(seg_call_pointer_entry, (void *)greedy, 0);
    sp_coro_resume(co);
    fprintf(stderr, "UNREACHABLE: the overrun was not caught\n");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "overrun") == 0)
        return overrun();
    if (argc > 1 && strcmp(argv[1], "overflow") == 0)
        return overflow();
    if (argc > 1 && strcmp(argv[1], "bt") == 0)
        return bt_target();
    RUN(test_first_segment_is_small);
    RUN(test_non_split_entry);
    RUN(test_deep_small_frames);
    RUN(test_kilobyte_frames);
    RUN(test_stack_arguments);
    RUN(test_big_return);
    RUN(test_long_double_return);
    RUN(test_varargs);
    RUN(test_vla_across_boundary);
    RUN(test_alloca_across_boundary);
    RUN(test_snprintf_on_a_segment);
    RUN(test_hot_split);
    RUN(test_many_coroutines_reuse_segments);
    RUN(test_systemstack);
    RUN(test_nested_coroutines);
    RUN(test_foreign_handler_moves_off_the_segment);
    RUN(test_run_loop_reuses_finished_stacks);
    return test_summary();
}
