/* Small operating-system services for POSIX systems. */
#if !defined(_WIN32)

#include "coro_internal.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

void sp_lock_wait(sp_lock *l)
{
    do {
        while (__atomic_load_n(&l->held, __ATOMIC_RELAXED) != 0)
            sched_yield();
    } while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE) != 0);
}

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static SP_THREAD_LOCAL int tls_exit_armed;

static void on_exit_key(void *unused)
{
    (void)unused;
    sp_thread_exiting();
}

static void make_exit_key(void)
{
    pthread_key_create(&exit_key, on_exit_key);
}

void sp_arm_thread_exit(void)
{
    if (tls_exit_armed)
        return;
    tls_exit_armed = 1;
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
