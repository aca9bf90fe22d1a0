/* Small operating-system services for Windows. */
#if defined(_WIN32)

#include "coro_internal.h"
#include "spindle_host.h" /* sp_clock_now */

#include <windows.h>

void sp_lock_wait(sp_lock *l)
{
    do {
        while (__atomic_load_n(&l->held, __ATOMIC_RELAXED) != 0)
            SwitchToThread();
    } while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE) != 0);
}

int64_t sp_clock_now(void)
{
    static LARGE_INTEGER frequency;
    LARGE_INTEGER now;
    if (frequency.QuadPart == 0)
        QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&now);
    return (int64_t)((__int128)now.QuadPart * 1000000000 / frequency.QuadPart);
}

void sp_wake_word_wait(int32_t *word)
{
    int32_t zero = 0;
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
        WaitOnAddress(word, &zero, sizeof zero, INFINITE);
}

void sp_wake_word_set(int32_t *word)
{
    __atomic_store_n(word, 1, __ATOMIC_RELEASE);
    WakeByAddressSingle(word);
}

/* A fiber-local slot's destructor runs at thread exit, in a DLL or an EXE. */
static DWORD exit_slot = FLS_OUT_OF_INDEXES;
static INIT_ONCE exit_slot_once = INIT_ONCE_STATIC_INIT;

static void WINAPI on_exit_slot(void *value)
{
    if (value != NULL)
        sp_thread_exit_run();
}

static BOOL CALLBACK make_exit_slot(INIT_ONCE *once, void *param, void **ctx)
{
    (void)once; (void)param; (void)ctx;
    exit_slot = FlsAlloc(on_exit_slot);
    return TRUE;
}

void sp_platform_arm_thread_exit(void)
{
    InitOnceExecuteOnce(&exit_slot_once, make_exit_slot, NULL, NULL);
    if (exit_slot != FLS_OUT_OF_INDEXES && FlsGetValue(exit_slot) == NULL)
        FlsSetValue(exit_slot, (void *)1);
}

void sp_write_stderr(const char *s, size_t n)
{
    DWORD written;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), s, (DWORD)n, &written, NULL);
}

void sp_exit_fatal(void)
{
    TerminateProcess(GetCurrentProcess(), 2);
}

#endif /* _WIN32 */
