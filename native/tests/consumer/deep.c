/* Goroutine code of the consumer, built by spindle_add_goroutine_library from
   the installed package: on x86-64 Linux it runs on 2 KiB segments. */
#include <spindle.h>

__attribute__((visibility("default"))) long long consumer_sum;

static __attribute__((noinline, noipa)) long long down(long long n)
{
    volatile long long mark = n;
    if (n == 0)
        return 0;
    long long below = down(n - 1);
    return below + mark;
}

__attribute__((visibility("default"))) void consumer_deep(void *arg)
{
    consumer_sum = down(*(long long *)arg);
}
