/* Stack overflow on POSIX: a coroutine that runs into its guard region gets
   SIGSEGV (or SIGBUS on macOS). The handler runs on an alternate signal stack,
   since the faulting stack has no room left, names the coroutine and its
   limit, and ends the process. Faults that are not ours go to the handler
   that was installed before Spindle's (the .NET runtime has one). */
#if !defined(_WIN32)

#define _GNU_SOURCE
#include "coro_internal.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#if defined(__linux__)
#  include <sys/auxv.h>
#endif
#ifndef AT_MINSIGSTKSZ
#  define AT_MINSIGSTKSZ 51
#endif

static struct sigaction previous_segv, previous_bus;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static SP_THREAD_LOCAL void *tls_altstack;
static SP_THREAD_LOCAL size_t tls_altstack_size;
static SP_THREAD_LOCAL int tls_has_altstack; /* one of altstack_size() bytes at least */

/* At least the kernel's minimum for this CPU's signal frame (12 KB or more
   on AMX hosts), never under 64 KB: the handler formats a message. */
static size_t altstack_size(void)
{
    size_t size = 64 * 1024;
#if defined(__linux__)
    size_t min = (size_t)getauxval(AT_MINSIGSTKSZ);
    if (min * 4 > size)
        size = min * 4;
#endif
    if ((size_t)SIGSTKSZ > size)
        size = (size_t)SIGSTKSZ;
    return size;
}

static uintptr_t context_sp(void *ucontext)
{
    ucontext_t *uc = ucontext;
#if defined(__linux__) && defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__linux__) && defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#elif defined(__APPLE__) && defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext->__ss.__rsp;
#elif defined(__APPLE__) && defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext->__ss.__sp;
#else
    (void)uc;
    return 0;
#endif
}

static void chain(int sig, siginfo_t *info, void *ucontext)
{
    struct sigaction *prev = sig == SIGBUS ? &previous_bus : &previous_segv;
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, info, ucontext);
    } else if (prev->sa_handler == SIG_DFL || prev->sa_handler == SIG_IGN) {
        /* Let the fault recur with the default action (a core dump). */
        sigaction(sig, prev, NULL);
    } else {
        prev->sa_handler(sig);
    }
}

static void on_fault(int sig, siginfo_t *info, void *ucontext)
{
    uintptr_t limit = clear_stack_limit();
    const sp_coro *co = sp_current();
    if (co != NULL && co->kind == SP_STACK_RESERVED) {
        uintptr_t addr = (uintptr_t)info->si_addr;
        uintptr_t sp = context_sp(ucontext);
        uintptr_t guard_lo = (uintptr_t)co->stack.map_base;
        uintptr_t low = (uintptr_t)co->stack.low;
        int in_guard = addr >= guard_lo && addr < low;
        int sp_below = sp != 0 && sp < low && sp >= guard_lo - (low - guard_lo);
        if (in_guard || sp_below)
            sp_fault_report_overflow(co, info->si_addr);
    }
    chain(sig, info, ucontext);
    restore_stack_limit(limit);
}

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
}

void sp_fault_thread_init(void)
{
    pthread_once(&handler_once, install_handlers);

    /* Keep an alternate stack the thread already has (the .NET runtime gives
       its threads one) if it is large enough. */
    size_t want = altstack_size();
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE) &&
        current.ss_size >= want) {
        tls_has_altstack = 1;
        return;
    }
    void *mem = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return; /* overflow then ends in a plain SIGSEGV, still never silent */
    stack_t ss = { .ss_sp = mem, .ss_size = want, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(mem, want);
        return;
    }
    tls_altstack = mem;
    tls_altstack_size = want;
    tls_has_altstack = 1;
}

int sp_fault_thread_has_altstack(void) { return tls_has_altstack; }

void sp_fault_thread_exit(void)
{
    if (tls_altstack == NULL)
        return;
    stack_t off = { .ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE };
    sigaltstack(&off, NULL);
    munmap(tls_altstack, tls_altstack_size);
    tls_altstack = NULL;
    tls_has_altstack = 0;
}

#endif /* !_WIN32 */
