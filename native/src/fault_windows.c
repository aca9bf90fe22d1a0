/* Stack overflow on Windows: a vectored exception handler sees
   EXCEPTION_STACK_OVERFLOW (or an access violation in the reserve below the
   stack) before any frame-based handler, names the coroutine and its limit,
   and ends the process. Windows keeps a little stack usable after the
   overflow for exactly this; the report uses no allocation and no stdio. */
#if defined(_WIN32)

#include "coro_internal.h"

#include <windows.h>

static INIT_ONCE handler_once = INIT_ONCE_STATIC_INIT;

static LONG CALLBACK on_exception(EXCEPTION_POINTERS *ep)
{
    const sp_coro *co = sp_current();
    if (co == NULL)
        return EXCEPTION_CONTINUE_SEARCH;
    EXCEPTION_RECORD *rec = ep->ExceptionRecord;
    const void *addr = (const void *)(uintptr_t)ep->ContextRecord->Rsp;
    int overflow = rec->ExceptionCode == EXCEPTION_STACK_OVERFLOW;
    if (rec->ExceptionCode == EXCEPTION_ACCESS_VIOLATION && rec->NumberParameters >= 2) {
        const char *fault = (const char *)rec->ExceptionInformation[1];
        overflow = fault >= co->stack.map_base && fault < co->stack.low;
        addr = fault;
    }
    if (overflow)
        sp_fault_report_overflow(co, addr);
    return EXCEPTION_CONTINUE_SEARCH;
}

static BOOL CALLBACK install_handler(INIT_ONCE *once, void *param, void **ctx)
{
    (void)once; (void)param; (void)ctx;
    AddVectoredExceptionHandler(1, on_exception);
    return TRUE;
}

void sp_fault_thread_init(void)
{
    InitOnceExecuteOnce(&handler_once, install_handler, NULL, NULL);
    /* Growth beyond the guard page needs room to raise the exception. */
    ULONG guarantee = 16 * 1024;
    SetThreadStackGuarantee(&guarantee);
}

void sp_fault_thread_exit(void)
{
}

#endif /* _WIN32 */
