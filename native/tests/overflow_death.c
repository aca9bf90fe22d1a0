/* Death test: a coroutine that recurses past its stack limit must end the
   process with the fatal message naming it and its limit (CTest matches the
   message). Pass "thread" to overflow on a second OS thread. */
#include "test_thread.h"
#include <spindle.h>
#include <stdio.h>
#include <string.h>

static int recurse_forever(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    return recurse_forever(depth + 1) + frame[0];
}

static void overflowing(void *arg)
{
    (void)arg;
    recurse_forever(0);
}

static void run_overflow(void *unused)
{
    (void)unused;
    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.max_stack = 64 * 1024;
    sp_coro *co = NULL;
    if (sp_coro_create(&co, overflowing, NULL, &opts) != SP_OK)
        return;
    fprintf(stderr, "overflowing coroutine %llu with a limit of %zu bytes\n",
            (unsigned long long)sp_coro_id(co), sp_coro_stack_max(co));
    fflush(stderr);
    sp_coro_resume(co);
    fprintf(stderr, "UNREACHABLE: the overflow was not caught\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "thread") == 0)
        run_on_new_thread(run_overflow, NULL);
    else
        run_overflow(NULL);
    return 0;
}
