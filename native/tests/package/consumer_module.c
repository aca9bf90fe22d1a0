/* A goroutine module as a C user builds it without CMake, in one step:
     cc -shared -fPIC consumer_module.c $(pkg-config --cflags --libs spindle-goroutine)
   `spindle run` runs spindle_main; every goroutine says which stack it got and
   recurses far deeper than one 2 KiB segment (about 40 KiB), and main starts a thread (the
   --wrap=pthread_create of a one-step split-stack link). */
#include <pthread.h>
#include <spindle.h>
#include <stdio.h>

enum { GOROUTINES = 4, DEPTH = 300 };

static sp_wg done;
static sp_chan results;

static long deep(int n)
{
    volatile int frame[32];
    frame[0] = n;
    return n == 0 ? 0 : frame[0] + deep(n - 1);
}

static void worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    sp_coro *self = sp_coro_self();
    long sum = deep(DEPTH);
    printf("goroutine %ld: %s stack, sum %ld\n", id,
           sp_coro_stack_kind(self) == SP_STACK_SEGMENTED ? "segmented" : "reserved", sum);
    sp_chan_send(results, &sum);
    sp_wg_done(done);
}

static void *thread_main(void *arg)
{
    *(int *)arg = 1;
    return NULL;
}

__attribute__((visibility("default"))) void spindle_main(void *arg)
{
    (void)arg;
    int thread_ran = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, &thread_ran) == 0)
        pthread_join(t, NULL);
    printf("thread ran: %d\n", thread_ran);

    sp_wg_make(&done);
    sp_chan_make(&results, sizeof(long), GOROUTINES);
    sp_wg_add(done, GOROUTINES);
    for (long i = 1; i <= GOROUTINES; i++)
        sp_go(worker, (void *)(intptr_t)i);
    sp_wg_wait(done);
    long total = 0;
    for (int i = 0; i < GOROUTINES; i++) {
        long sum;
        bool ok;
        sp_chan_recv(results, &sum, &ok);
        total += sum;
    }
    printf("all %d goroutines done, total %ld\n", GOROUTINES, total);
}
