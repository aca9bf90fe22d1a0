/* The fatal stack messages, built without allocation or stdio so they can be
   written from a signal or exception handler. */
#include "coro_internal.h"
#include "segment.h"

#include <string.h>

_Static_assert(SP_SEG_RESERVE == 1024 && SP_SEG_RESERVE == SP_SEGMENT_RESERVE, "the overrun message names the reserve's size");

static size_t append(char *buf, size_t at, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (at + n > cap)
        n = cap - at;
    memcpy(buf + at, s, n);
    return at + n;
}

static size_t append_u64(char *buf, size_t at, size_t cap, uint64_t v, int base)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % (uint64_t)base];
        v /= (uint64_t)base;
    } while (v != 0);
    while (n > 0 && at < cap)
        buf[at++] = digits[--n];
    return at;
}

void sp_fault_report_overflow(const sp_coro *co, const void *fault_addr)
{
    char msg[256];
    size_t cap = sizeof msg, n = 0;
    n = append(msg, n, cap, "spindle: fatal: coroutine ");
    n = append_u64(msg, n, cap, co->id, 10);
    n = append(msg, n, cap, " overflowed its stack: limit ");
    if (co->kind == SP_STACK_SEGMENTED) {
        n = append_u64(msg, n, cap, co->segment_max, 10);
        n = append(msg, n, cap, " bytes (segments in use: ");
        n = append_u64(msg, n, cap, co->segment_bytes, 10);
        n = append(msg, n, cap, " bytes)");
    } else {
        n = append_u64(msg, n, cap, co->stack.usable, 10);
        n = append(msg, n, cap, " bytes (fault at 0x");
        n = append_u64(msg, n, cap, (uint64_t)(uintptr_t)fault_addr, 16);
        n = append(msg, n, cap, ")");
    }
    n = append(msg, n, cap, "; raise sp_coro_options.max_stack or use less stack\n");
    sp_write_stderr(msg, n);
    sp_exit_fatal();
}

void sp_fault_report_segment_overrun(const sp_coro *co)
{
    char msg[320];
    size_t cap = sizeof msg, n = 0;
    n = append(msg, n, cap, "spindle: fatal: coroutine ");
    n = append_u64(msg, n, cap, co != NULL ? co->id : 0, 10);
    n = append(msg, n, cap, " wrote past the reserve of a stack segment: code built without "
                            "-fsplit-stack, called through a function pointer, used more than "
                            "the 1024 bytes below the limit (call such code through "
                            "sp_systemstack); other goroutines' stacks may be damaged\n");
    sp_write_stderr(msg, n);
    sp_exit_fatal();
}
