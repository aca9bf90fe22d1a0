/* Small operating-system services for POSIX systems. */
#if !defined(_WIN32)

#include "coro_internal.h"
#include "spindle_host.h" /* sp_clock_now */

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#  include <linux/futex.h>
#  include <sys/syscall.h>
#endif

void sp_lock_wait(sp_lock *l)
{
    do {
        while (__atomic_load_n(&l->held, __ATOMIC_RELAXED) != 0)
            sched_yield();
    } while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE) != 0);
}

int64_t sp_clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#if defined(__linux__)
void sp_wake_word_wait(int32_t *word)
{
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
        syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

void sp_wake_word_set(int32_t *word)
{
    __atomic_store_n(word, 1, __ATOMIC_RELEASE);
    /* The waiter may return and reuse the word's memory at once: a wake on
       it then is at most a spurious wake-up of whatever lives there. */
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
#else
/* No futex: one condition for every waiter (this path is not tested here). */
static pthread_mutex_t wake_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;

void sp_wake_word_wait(int32_t *word)
{
    pthread_mutex_lock(&wake_mutex);
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
        pthread_cond_wait(&wake_cond, &wake_mutex);
    pthread_mutex_unlock(&wake_mutex);
}

void sp_wake_word_set(int32_t *word)
{
    pthread_mutex_lock(&wake_mutex);
    __atomic_store_n(word, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_mutex);
}
#endif

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void on_exit_key(void *unused)
{
    (void)unused;
    sp_thread_exit_run();
}

static void make_exit_key(void)
{
    pthread_key_create(&exit_key, on_exit_key);
}

void sp_platform_arm_thread_exit(void)
{
    pthread_once(&exit_key_once, make_exit_key);
    pthread_setspecific(exit_key, (void *)1); /* non-NULL, or the destructor is skipped */
}

void sp_write_stderr(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void sp_exit_fatal(void)
{
    _exit(2);
}

#endif /* !_WIN32 */
