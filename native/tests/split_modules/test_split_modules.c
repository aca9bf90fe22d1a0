/* Modules built the right way and the wrong ways: sp_split_stack_status says
   how each was built, only the right one starts on a segment, and every one
   runs its entry (deep recursion, a thread) to the end.
   Usage: test_split_modules MODULE STATUS THREAD: THREAD 1 when the entry
   starts a thread. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <spindle.h>
#include <string.h>

#include "../check.h"

typedef struct sm_job {
    long sum;
    int thread_ran;
} sm_job;

static void test_module(const char *path, int expected, int with_thread)
{
    printf("%s: expecting status %d\n", path, expected);
    void *module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (module == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        check_failures++;
        return;
    }
    sp_fn entry = (sp_fn)dlsym(module, "sm_entry");
    CHECK(entry != NULL);
    if (entry == NULL)
        return;
    CHECK_EQ(sp_split_stack_status(entry), expected);
    CHECK_EQ(sp_is_split_stack(entry), expected == SP_SPLIT_SPINDLE);

    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.kind = SP_STACK_SEGMENTED;
    sp_coro *co = NULL;
    if (expected != SP_SPLIT_SPINDLE) {
        CHECK_EQ(sp_coro_create(&co, entry, NULL, &opts), SP_ENOTSPLIT);
        opts.kind = SP_STACK_DEFAULT;
    }
    sm_job job = { 0, 0 };
    CHECK_EQ(sp_coro_create(&co, entry, &job, &opts), SP_OK);
    if (co == NULL)
        return;
    CHECK_EQ(sp_coro_stack_kind(co), expected == SP_SPLIT_SPINDLE ? SP_STACK_SEGMENTED
                                                                   : SP_STACK_RESERVED);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK_EQ(job.sum, 200L * 201 / 2);
    CHECK_EQ(job.thread_ran, with_thread);
    sp_coro_destroy(co);
}

static void test_bad_input(void)
{
    CHECK_EQ(sp_split_stack_status(NULL), SP_SPLIT_NONE);
    /* Code of this executable, which is not split-stack. */
    CHECK_EQ(sp_split_stack_status((sp_fn)test_bad_input), SP_SPLIT_NONE);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_split_modules MODULE STATUS THREAD(0|1)\n");
        return 2;
    }
    RUN(test_bad_input);
    test_module(argv[1], atoi(argv[2]), atoi(argv[3]));
    return test_summary();
}
