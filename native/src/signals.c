/* Signal handlers that run while a goroutine runs land on its stack unless
   they were installed with SA_ONSTACK: on a 2 KiB segment the kernel's signal
   frame alone (12 KiB with AVX-512/AMX state) overwrites its neighbours.

   Foreign handlers (the .NET runtime's) are not simply given SA_ONSTACK:
   every thread would then run them on its alternate stack, and .NET's own
   threads have small ones that its handlers were never written for (the GC's
   activation handler crashed the process on them). They are wrapped instead:
   the kernel delivers on the alternate stack, and the wrapper calls the
   handler there only on a thread that runs coroutines (its alternate stack
   is Spindle's size, sp_fault_thread_init); on any other thread it calls the
   handler on the interrupted stack, where the kernel would have run it. */
#if !defined(_WIN32)

#define _GNU_SOURCE
#include "coro_internal.h"
#include "sanitizer.h"
#include "segment.h"

#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#if SP_HAVE_SEGMENTS && defined(NSIG)

/* The handlers wrapped, by signal number; written before the wrapper is installed. */
static struct sigaction wrapped[NSIG];

typedef struct signal_call {
    int sig;
    siginfo_t *info;
    void *context;
} signal_call;

static void call_wrapped(void *p)
{
    const signal_call *c = p;
    const struct sigaction *sa = &wrapped[c->sig];
    if (sa->sa_flags & SA_SIGINFO)
        sa->sa_sigaction(c->sig, c->info, c->context);
    else
        sa->sa_handler(c->sig);
}

static void run_wrapped(int sig, siginfo_t *info, void *context)
{
    signal_call call = { sig, info, context };
    /* The limit slot still holds a segment's limit if a goroutine was
       interrupted; split-stack code in the handler must not compare against it. */
    uintptr_t limit = clear_stack_limit();

    stack_t ss;
    uintptr_t sp = (uintptr_t)((ucontext_t *)context)->uc_mcontext.gregs[REG_RSP];
    int on_altstack = sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
    int interrupted_on_altstack =
        on_altstack && sp >= (uintptr_t)ss.ss_sp && sp < (uintptr_t)ss.ss_sp + ss.ss_size;
    if (!on_altstack || interrupted_on_altstack || sp_fault_thread_has_altstack())
        call_wrapped(&call); /* where it is: Spindle's alternate stack, or already nested */
    else {
        char *top = (char *)((sp - 128) & ~(uintptr_t)15);
        SP_VG_MAKE_UNDEFINED(top - 16 * 1024, 16 * 1024); /* memcheck: below sp is not addressable */
        sp_run_on_stack(call_wrapped, &call, top);
    }

    restore_stack_limit(limit);
}

int sp_signal_handlers_onstack(void)
{
    int changed = 0;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) != 0)
            continue;
        int is_function = (sa.sa_flags & SA_SIGINFO) ? sa.sa_sigaction != NULL
                                                      : sa.sa_handler != SIG_DFL &&
                                                            sa.sa_handler != SIG_IGN;
        if (!is_function || (sa.sa_flags & SA_ONSTACK))
            continue;
        wrapped[sig] = sa;
        struct sigaction shim = sa;
        shim.sa_sigaction = run_wrapped;
        shim.sa_flags = sa.sa_flags | SA_SIGINFO | SA_ONSTACK;
        if (sigaction(sig, &shim, NULL) == 0)
            changed++;
    }
    return changed;
}

#else

/* No segments here: a signal frame on a reserved stack is as on a thread's. */
int sp_signal_handlers_onstack(void) { return 0; }

#endif

#else

int sp_signal_handlers_onstack(void) { return 0; }

#endif
