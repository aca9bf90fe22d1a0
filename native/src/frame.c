/* The first frame of a new coroutine, laid out exactly as the switch of this
   ABI saves one (see the table at the top of switch_<arch>_<abi>.S). */
#include "coro_internal.h"
#include "segment.h"

#include <string.h>

/* SP_FRAME_CORO: the callee-saved slot (rbx, or x19) that carries the
   coroutine to sp_coro_trampoline. */
#if defined(__x86_64__) && defined(_WIN32)
#  define SP_FRAME_SIZE 0x120
#  define SP_FRAME_RETURN 0x118
#  define SP_FRAME_CORO 0x108
#elif defined(__x86_64__)
#  define SP_FRAME_SIZE 0x48
#  define SP_FRAME_RETURN 0x40
#  define SP_FRAME_CORO 0x30
#elif defined(__aarch64__)
#  define SP_FRAME_SIZE 0xa0
#  define SP_FRAME_RETURN 0x98       /* the x30 (lr) slot */
#  define SP_FRAME_CORO 0x40         /* x19 */
#else
#  error "Spindle has no context switch for this architecture"
#endif

static void put64(char *frame, size_t offset, uint64_t value)
{
    memcpy(frame + offset, &value, sizeof value);
}

void *sp_frame_init(sp_coro *co)
{
    /* Where the trampoline starts: 16-byte aligned, with one zeroed word
       above it that ends stack walks (Win64 unwinds into it). */
    char *stack_top = co->stack.top;
#if SP_HAVE_SEGMENTS
    if (co->kind == SP_STACK_SEGMENTED)
        stack_top = co->segments->top;
#endif
    uintptr_t entry_sp = ((uintptr_t)stack_top - 16) & ~(uintptr_t)15;
    char *frame = (char *)entry_sp - SP_FRAME_SIZE;
    memset(frame, 0, SP_FRAME_SIZE + 16);
    put64(frame, SP_FRAME_RETURN, (uint64_t)(uintptr_t)&sp_coro_trampoline);
    put64(frame, SP_FRAME_CORO, (uint64_t)(uintptr_t)co);

#if defined(__x86_64__)
    /* The ABI's default control words: all exceptions masked, round to
       nearest; x87 precision is 64-bit on System V and 53-bit on Windows. */
#  if defined(_WIN32)
    const uint64_t control = 0x1F80u | ((uint64_t)0x027Fu << 32);
#  else
    const uint64_t control = 0x1F80u | ((uint64_t)0x037Fu << 32);
#  endif
    put64(frame, 0x00, control);
#  if defined(_WIN32)
    put64(frame, 0xc8, (uint64_t)(uintptr_t)co->stack.top);                      /* StackBase */
    put64(frame, 0xc0, (uint64_t)(uintptr_t)sp_stack_committed_floor(&co->stack)); /* StackLimit */
    put64(frame, 0xb8, (uint64_t)(uintptr_t)co->stack.map_base);                 /* DeallocationStack */
    put64(frame, 0xb0, 0);                                                       /* GuaranteedStackBytes */
#  else
    /* The split-stack limit: none on a reserved stack. */
    uint64_t limit = 0;
#    if SP_HAVE_SEGMENTS
    if (co->kind == SP_STACK_SEGMENTED)
        limit = (uint64_t)(uintptr_t)sp_segment_limit(co->segments);
#    endif
    put64(frame, 0x08, limit);
#  endif
#endif
    return frame;
}
