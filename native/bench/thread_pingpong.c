/* The OS-thread peer of the channel ping-pong: two pthreads pinned to one CPU hand a
   counter back and forth through a futex word, so each round trip is two thread
   switches by the kernel. Prints "thread_pingpong 1 NS_PER_ROUND_TRIP" (Linux only). */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static _Atomic uint32_t turn; /* even: main's turn, odd: the partner's */
static int64_t rounds;

static void wait_for(uint32_t parity)
{
    uint32_t t;
    while (((t = atomic_load(&turn)) & 1) != parity)
        syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, t, NULL, NULL, 0);
}

static void pass(void)
{
    atomic_fetch_add(&turn, 1);
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void pin_to_cpu0(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *partner(void *arg)
{
    (void)arg;
    pin_to_cpu0();
    for (int64_t i = 0; i < rounds; i++) {
        wait_for(1);
        pass();
    }
    return NULL;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atoll(argv[1]) : 200000;
    pin_to_cpu0();
    double best = 0;
    for (int run = 0; run < 5; run++) {
        atomic_store(&turn, 0);
        pthread_t t;
        pthread_create(&t, NULL, partner, NULL);
        int64_t start = now_ns();
        for (int64_t i = 0; i < rounds; i++) {
            pass();
            wait_for(0);
        }
        double ns = (double)(now_ns() - start) / (double)rounds;
        pthread_join(t, NULL);
        if (run == 0 || ns < best)
            best = ns;
    }
    printf("thread_pingpong 1 %.1f\n", best);
    return 0;
}
