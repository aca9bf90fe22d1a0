/* The same goroutine entry, built into one module per way of building it
   (CMakeLists.txt): right, and with each mistake split_module.c detects. */
#include <pthread.h>
#include <spindle.h>

typedef struct sm_job {
    long sum;           /* from a recursion deep enough to need many segments */
    int thread_ran;     /* a thread the entry started (SM_WITH_THREAD builds) */
} sm_job;

static long deep(int n)
{
    volatile int frame[50]; /* ~40 KiB over the recursion: far past one segment */
    frame[0] = n;
    return n == 0 ? 0 : frame[0] + deep(n - 1);
}

#if defined(SM_WITH_THREAD)
static void *thread_main(void *arg)
{
    ((sm_job *)arg)->thread_ran = 1;
    return NULL;
}
#endif

__attribute__((visibility("default"))) void sm_entry(void *arg)
{
    sm_job *job = arg;
    job->sum = deep(200);
#if defined(SM_WITH_THREAD)
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, job) == 0)
        pthread_join(t, NULL);
#endif
}
