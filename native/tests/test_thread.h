/* Run a function on a new OS thread and wait for it (POSIX or Windows). */
#ifndef SPINDLE_TEST_THREAD_H
#define SPINDLE_TEST_THREAD_H

#if defined(_WIN32)
#  include <windows.h>
typedef struct { void (*fn)(void *); void *arg; } test_thread_call;
static DWORD WINAPI test_thread_main(void *p)
{
    test_thread_call *c = p;
    c->fn(c->arg);
    return 0;
}
static void run_on_new_thread(void (*fn)(void *), void *arg)
{
    test_thread_call c = { fn, arg };
    HANDLE h = CreateThread(NULL, 0, test_thread_main, &c, 0, NULL);
    WaitForSingleObject(h, INFINITE);
    CloseHandle(h);
}
#else
#  include <pthread.h>
typedef struct { void (*fn)(void *); void *arg; } test_thread_call;
static void *test_thread_main(void *p)
{
    test_thread_call *c = p;
    c->fn(c->arg);
    return NULL;
}
static void run_on_new_thread(void (*fn)(void *), void *arg)
{
    test_thread_call c = { fn, arg };
    pthread_t t;
    pthread_create(&t, NULL, test_thread_main, &c);
    pthread_join(t, NULL);
}
#endif

#endif
