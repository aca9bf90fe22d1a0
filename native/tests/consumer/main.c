/* Built against an installed Spindle through find_package(Spindle). */
#include <spindle.h>
#include <stdio.h>

void consumer_deep(void *arg);
extern long long consumer_sum;

static void count(void *arg)
{
    for (int *n = arg; *n < 3; ++*n)
        sp_coro_yield();
}

int main(void)
{
    int n = 0, resumes = 0;
    sp_coro *co = NULL;
    if (sp_coro_create(&co, count, &n, NULL) != SP_OK)
        return 1;
    while (sp_coro_resume(co) == SP_CORO_SUSPENDED)
        resumes++;
    sp_coro_destroy(co);

    /* 50,000 frames from the goroutine library: on segments where there are any. */
    long long depth = 50000;
    if (sp_coro_create(&co, consumer_deep, &depth, NULL) != SP_OK)
        return 1;
    int kind = sp_coro_stack_kind(co);
    int state = sp_coro_resume(co);
    sp_coro_destroy(co);
    int want_kind = sp_stack_segmented_available() ? SP_STACK_SEGMENTED : SP_STACK_RESERVED;
    printf("consumer: spindle %s, %d resumes, n = %d, deep sum %lld on %s stacks\n", sp_version(),
           resumes, n, consumer_sum, kind == SP_STACK_SEGMENTED ? "segmented" : "reserved");
    return resumes == 3 && n == 3 && state == SP_CORO_DONE && kind == want_kind &&
                   consumer_sum == depth * (depth + 1) / 2
               ? 0
               : 1;
}
