/* Reserved stacks: deep recursion, the high-water mark, sizing options, and
   clean reuse of pooled stacks. */
#include "check.h"
#include <spindle.h>
#include <string.h>

/* Uses about depth KiB of stack and returns a checksum of every frame. */
static uint64_t recurse(int depth)
{
    volatile unsigned char frame[1000];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (unsigned char)(depth + (int)i);
    uint64_t below = depth > 1 ? recurse(depth - 1) : 0;
    return below + frame[depth % 1000] + frame[999];
}

static uint64_t expected_sum(int depth)
{
    uint64_t sum = 0;
    for (int d = 1; d <= depth; d++)
        sum += (unsigned char)(d + d % 1000) + (unsigned char)(d + 999);
    return sum;
}

typedef struct { int depth; uint64_t result; } deep_job;

static void deep_body(void *arg)
{
    deep_job *job = arg;
    job->result = recurse(job->depth);
}

static void test_deep_recursion_on_default_stack(void)
{
    deep_job job = { 100, 0 };  /* about 100 KB of a 256 KB stack */
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, deep_body, &job, NULL), SP_OK);
    CHECK(sp_coro_stack_max(co) >= SP_DEFAULT_MAX_STACK);
    CHECK(sp_coro_stack_used(co) <= 512); /* only the first frame */
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK_EQ(job.result, expected_sum(100));
    size_t used = sp_coro_stack_used(co);
    CHECK(used >= 100 * 1000);
    CHECK(used < 2 * 100 * 1000); /* sanitizer builds have larger frames */
    printf("  100 frames of 1000 bytes used %zu bytes of stack\n", used);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

static void test_large_stack_option(void)
{
    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.kind = SP_STACK_RESERVED;
    opts.max_stack = 4 * 1024 * 1024;
    deep_job job = { 3000, 0 };  /* about 3 MB */
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, deep_body, &job, &opts), SP_OK);
    CHECK(sp_coro_stack_max(co) >= opts.max_stack);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK_EQ(job.result, expected_sum(3000));
    CHECK(sp_coro_stack_used(co) >= 3000 * 1000);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

static void shallow_body(void *arg)
{
    volatile char small[64];
    memset((char *)small, 1, sizeof small);
    (void)arg;
}

static void test_pooled_stack_is_clean_for_the_next_coroutine(void)
{
    /* A deep run, then destroy: the next coroutine (the same pooled stack)
       must start clean, so its high-water mark reflects only its own use. */
    for (int round = 0; round < 3; round++) {
        deep_job job = { 150, 0 };
        sp_coro *deep = NULL, *next = NULL;
        CHECK_EQ(sp_coro_create(&deep, deep_body, &job, NULL), SP_OK);
        CHECK_EQ(sp_coro_resume(deep), SP_CORO_DONE);
        CHECK(sp_coro_stack_used(deep) >= 150 * 1000);
        CHECK_EQ(sp_coro_destroy(deep), SP_OK);

        CHECK_EQ(sp_coro_create(&next, shallow_body, NULL, NULL), SP_OK);
        CHECK(next == deep); /* reused from this thread's pool */
        CHECK(sp_coro_stack_used(next) <= 512);
        CHECK_EQ(sp_coro_resume(next), SP_CORO_DONE);
        size_t used = sp_coro_stack_used(next);
        CHECK(used > 0 && used < 4096);
        CHECK_EQ(sp_coro_destroy(next), SP_OK);
    }
}

static void test_option_validation(void)
{
    sp_coro *co = (sp_coro *)1;
    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);

    opts.max_stack = SP_MIN_MAX_STACK - 1;
    CHECK_EQ(sp_coro_create(&co, shallow_body, NULL, &opts), SP_EINVAL);
    CHECK(co == NULL);
    opts.max_stack = SP_MAX_MAX_STACK + 1;
    CHECK_EQ(sp_coro_create(&co, shallow_body, NULL, &opts), SP_EINVAL);
    opts.max_stack = 64 * 1024;
    opts.initial_stack = 128 * 1024;
    CHECK_EQ(sp_coro_create(&co, shallow_body, NULL, &opts), SP_EINVAL);
    opts.initial_stack = 0;
    opts.kind = 42;
    CHECK_EQ(sp_coro_create(&co, shallow_body, NULL, &opts), SP_EINVAL);
    /* This program is not split-stack code: no segments for it, and where
       there are no segments at all, that is said first. */
    opts.kind = SP_STACK_SEGMENTED;
    CHECK_EQ(sp_coro_create(&co, shallow_body, NULL, &opts),
             sp_stack_segmented_available() ? SP_ENOTSPLIT : SP_ENOTSUP);
    CHECK(co == NULL);

    opts.kind = SP_STACK_RESERVED;
    opts.max_stack = SP_MIN_MAX_STACK;
    opts.initial_stack = SP_MIN_MAX_STACK;
    CHECK_EQ(sp_coro_create(&co, shallow_body, NULL, &opts), SP_OK);
    CHECK(sp_coro_stack_max(co) >= SP_MIN_MAX_STACK);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

static void test_guard_mode_is_reported(void)
{
    int mode = sp_stack_guard_mode();
    printf("  guard mode: %s\n", sp_stack_guard_mode_name(mode));
#if defined(_WIN32)
    CHECK_EQ(mode, SP_GUARD_WINDOWS);
#else
    CHECK(mode == SP_GUARD_MADVISE || mode == SP_GUARD_MPROTECT);
#endif
}

int main(void)
{
    RUN(test_deep_recursion_on_default_stack);
    RUN(test_large_stack_option);
    RUN(test_pooled_stack_is_clean_for_the_next_coroutine);
    RUN(test_option_validation);
    RUN(test_guard_mode_is_reported);
    return test_summary();
}
