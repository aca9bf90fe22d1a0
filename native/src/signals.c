/* Signal handlers that run while a goroutine runs land on its stack unless
   they were installed with SA_ONSTACK: on a 2 KiB segment the kernel's signal
   frame alone (12 KiB with AVX-512/AMX state) overwrites its neighbours. */
#if !defined(_WIN32)

#include "coro_internal.h"

#include <signal.h>

int sp_signal_handlers_onstack(void)
{
    int changed = 0;
#if defined(NSIG)
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
        sa.sa_flags |= SA_ONSTACK;
        if (sigaction(sig, &sa, NULL) == 0)
            changed++;
    }
#endif
    return changed;
}

#else

int sp_signal_handlers_onstack(void) { return 0; }

#endif
