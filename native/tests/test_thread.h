/* Run a function on a new OS thread and wait for it, or on two new threads
   at once and wait for both (POSIX or Windows). */
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
static void run_on_two_new_threads(void (*fn)(void *), void *arg0, void *arg1)
{
    test_thread_call c[2] = { { fn, arg0 }, { fn, arg1 } };
    HANDLE h[2];
    for (int i = 0; i < 2; i++)
        h[i] = CreateThread(NULL, 0, test_thread_main, &c[i], 0, NULL);
    WaitForMultipleObjects(2, h, TRUE, INFINITE);
    for (int i = 0; i < 2; i++)
        CloseHandle(h[i]);
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
static void run_on_two_new_threads(void (*fn)(void *), void *arg0, void *arg1)
{
    test_thread_call c[2] = { { fn, arg0 }, { fn, arg1 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, test_thread_main, &c[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}
#endif

#endif
