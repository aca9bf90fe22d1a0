/* Built against an installed Spindle through find_package(Spindle). */
#include <spindle.h>
#include <stdio.h>

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
    printf("consumer: spindle %s, %d resumes, n = %d\n", sp_version(), resumes, n);
    return resumes == 3 && n == 3 ? 0 : 1;
}
